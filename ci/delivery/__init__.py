"""Deploy orchestration (package, deploy, rollback, promotion, previews, drift): Python with boto3 clients injected,
so it runs the same inside the Dagger module runtime and in tests against moto.

It sits apart from the step/judge stages: it may import core, config and integrations, and it runs steps (e.g.
`sam build`) only through an executor it is given, never one it imports. `preview.py` is `preview-changes`;
`credentials`, `clients`, `packaging`, `changeset`, `replacement`, `sam` and `emulator` are what the deploy reuses."""

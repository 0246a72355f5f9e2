"""Outside services the pipeline talks to, each with its HTTP transport injected so tests send requests to their own:
GitHub REST today (code scanning), Slack and PagerDuty with the delivery stages."""

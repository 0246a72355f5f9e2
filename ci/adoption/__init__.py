"""Adoption: what `init` writes into an app repository (a commented pipeline.yaml detected from the app, and the
workflows that call this module by reference), and the same workflows this repository runs on its sample app."""

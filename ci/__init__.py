"""Bayon Pipeline: portable CI/CD pipeline-as-code for a Next.js + TypeScript app on AWS, on Dagger."""


def __getattr__(name: str):
    """`ci.Ci`, the Dagger module's main object, imported on first use: `bayon` never needs the Dagger SDK."""
    if name == "Ci":
        from ci.main import Ci

        return Ci
    raise AttributeError(f"module 'ci' has no attribute {name!r}")

"""`pipeline.yaml`, the one config file of an app repo: its model, its loader and (`ci.config.schema`) its JSON Schema.

The model (`model.py`) is the one description of the file; the loader (`loader.py`) validates a file against it with
one-line errors, and the committed JSON Schema is generated from it (`python -m ci.config.schema --write`).
"""

from .loader import ConfigError, load_config
from .model import (
    DEFAULT,
    LIGHTHOUSE_CATEGORIES,
    Thresholds,
    ThresholdOverrides,
    MetricBudgets,
    LighthouseUrl,
    Lighthouse,
    Infra,
    Environment,
    AllowlistEntry,
    Audit,
    Budgets,
    Build,
    Config,
    Coverage,
    Install,
    Integration,
    LicenseException,
    Licenses,
    Quality,
    Sast,
    SecretsScan,
    Security,
    Tests,
)

__all__ = [
    "DEFAULT",
    "LIGHTHOUSE_CATEGORIES",
    "Thresholds",
    "ThresholdOverrides",
    "MetricBudgets",
    "LighthouseUrl",
    "Lighthouse",
    "Infra",
    "Environment",
    "AllowlistEntry",
    "Audit",
    "Budgets",
    "Build",
    "Config",
    "ConfigError",
    "Coverage",
    "Install",
    "Integration",
    "LicenseException",
    "Licenses",
    "Quality",
    "Sast",
    "SecretsScan",
    "Security",
    "Tests",
    "load_config",
]

"""pipeline.yaml `install.env` and `setup`: plain values only, each problem one line with its fix."""

from __future__ import annotations

import pytest

from ci.config import ConfigError, load_config

GOOD = ('install:\n  env:\n    PUPPETEER_SKIP_DOWNLOAD: "1"\n    CYPRESS_INSTALL_BINARY: "0"\n'
        "setup:\n  - npm ci --prefix backend/src\n  - npx prisma generate\n")


def test_the_install_env_and_setup_commands_are_read():
    config = load_config(GOOD)
    assert dict(config.install.env) == {"PUPPETEER_SKIP_DOWNLOAD": "1", "CYPRESS_INSTALL_BINARY": "0"}
    assert config.setup == ["npm ci --prefix backend/src", "npx prisma generate"]
    assert load_config(None).install.env == {} and load_config(None).setup == []


@pytest.mark.parametrize("name", ["NPM_TOKEN", "GITHUB_TOKEN", "DB_PASSWORD", "aws_secret_access_key", "API_KEY",
                                  "NPM_CONFIG__AUTH", "SENTRY_AUTH_TOKEN", "PRIVATE_KEY"])
def test_a_name_that_looks_like_a_secret_is_refused_at_its_line(name):
    with pytest.raises(ConfigError) as caught:
        load_config(f'install:\n  env:\n    CI_PLAIN: "1"\n    {name}: "x"\n')
    message = str(caught.value)
    assert message.startswith(f"pipeline.yaml:4: install.env.{name} looks like a secret; ") and "\n" not in message
    assert "--npm-token env://NAME" in message and '"x"' not in message


@pytest.mark.parametrize("text, expected", [
    ("install:\n  env:\n    A: 1\n", "pipeline.yaml:3: install.env.A must be a string, got 1; put it in quotes"),
    ('install:\n  env:\n    "A-B": "1"\n', "pipeline.yaml:3: name 'A-B' in install.env must match"),
    ("setup: npx prisma generate\n", "pipeline.yaml:1: setup must be a list, got 'npx prisma generate'"),
    ('setup:\n  - ""\n', "pipeline.yaml:2: setup[0] must be a non-empty string"),
])
def test_bad_values_are_one_line(text, expected):
    with pytest.raises(ConfigError) as caught:
        load_config(text)
    assert str(caught.value).startswith(expected) and "\n" not in str(caught.value)

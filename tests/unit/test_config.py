from __future__ import annotations

import pytest

from server.config import ConfigError, load_settings


def test_defaults_are_safe() -> None:
    s = load_settings(environ={})
    assert s.database_url == "sqlite:///spa.db"
    assert s.debug is False
    assert s.cors_origins == ()
    assert s.claim_grace_s == 120
    assert s.max_sockets == s.threads - s.http_reserve_threads


def test_environment_is_read() -> None:
    s = load_settings(
        environ={
            "DATABASE_URL": "mysql+pymysql://u@h/db",
            "SPA_THREADS": "200",
            "SPA_CORS_ORIGINS": "https://a, https://b",
            "SPA_DEBUG": "false",
            "SPA_CLAIM_GRACE_S": "30.5",
            "SPA_TIMEZONE": "Europe/Berlin",
        }
    )
    assert (s.database_url, s.threads, s.cors_origins, s.claim_grace_s) == (
        "mysql+pymysql://u@h/db",
        200,
        ("https://a", "https://b"),
        30.5,
    )
    assert s.zone.key == "Europe/Berlin"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SPA_PORT": "0"}, "SPA_PORT"),
        ({"SPA_THREADS": "lots"}, "SPA_THREADS"),
        ({"SPA_DEBUG": "maybe"}, "SPA_DEBUG"),
        ({"SPA_TIMEZONE": "Mars/Olympus"}, "SPA_TIMEZONE"),
        ({"SPA_CLAIM_GRACE_S": "0"}, "SPA_CLAIM_GRACE_S"),
        ({"SPA_THREADS": "8", "SPA_HTTP_RESERVE_THREADS": "8"}, "SPA_HTTP_RESERVE_THREADS"),
        ({"SPA_LOG_FORMAT": "xml"}, "SPA_LOG_FORMAT"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert message in str(err.value)


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError):
        load_settings({"treads": 4}, environ={})


def test_a_receipt_address_has_lines() -> None:
    assert load_settings(environ={"SPA_ADDRESS": r"1 Example Street\nSpringfield"}).spa_address == (
        "1 Example Street\nSpringfield"
    )

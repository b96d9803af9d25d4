from __future__ import annotations

import pytest

from server.config import ConfigError, load_settings


def test_defaults_are_safe() -> None:
    s = load_settings(environ={})
    assert s.database_url == "sqlite:///spa.db"
    assert s.debug is False
    assert s.cors_origins == ()
    assert s.claim_grace_s == 120
    # One process serves at least 500 screens and appliances with the defaults (issue 10).
    assert s.max_connections >= 500
    assert s.max_tcp_connections >= s.max_connections + s.max_pending_connections
    assert s.connect_deadline_s <= 5
    assert s.max_pending_connections < s.max_connections and s.max_pending_per_address < s.max_pending_connections


def test_environment_is_read() -> None:
    s = load_settings(
        environ={
            "DATABASE_URL": "mysql+pymysql://u@h/db",
            "SPA_MAX_CONNECTIONS": "200",
            "SPA_CORS_ORIGINS": "https://a, https://b",
            "SPA_DEBUG": "false",
            "SPA_CLAIM_GRACE_S": "30.5",
            "SPA_TIMEZONE": "Europe/Berlin",
        }
    )
    assert (s.database_url, s.max_connections, s.cors_origins, s.claim_grace_s) == (
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
        ({"SPA_MAX_CONNECTIONS": "lots"}, "SPA_MAX_CONNECTIONS"),
        ({"SPA_MAX_PENDING_PER_ADDRESS": "0"}, "SPA_MAX_PENDING_PER_ADDRESS"),
        ({"SPA_CONNECT_DEADLINE_S": "0"}, "SPA_CONNECT_DEADLINE_S"),
        ({"SPA_MAX_TCP_CONNECTIONS": "100"}, "SPA_MAX_TCP_CONNECTIONS"),
        ({"SPA_DEBUG": "maybe"}, "SPA_DEBUG"),
        ({"SPA_TIMEZONE": "Mars/Olympus"}, "SPA_TIMEZONE"),
        ({"SPA_CLAIM_GRACE_S": "0"}, "SPA_CLAIM_GRACE_S"),
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


def test_a_retired_setting_is_named_in_a_warning_not_silently_ignored() -> None:
    from server.config import retired_settings

    assert retired_settings({}) == []
    (warning,) = retired_settings({"SPA_THREADS": "64"})
    assert warning.startswith("SPA_THREADS is no longer used") and "SPA_MAX_CONNECTIONS" in warning

"""`emergency.*` settings: the approver chain is checked when the settings load."""

import pytest
from pydantic import ValidationError

from bot.emergency_commands import emergency_rules
from bot.settings import Settings


def test_defaults() -> None:
    settings = Settings()
    rules = emergency_rules(settings)
    assert rules.chain == (("manager",),)
    assert (rules.approve_within.total_seconds(), rules.confirm_within.total_seconds()) == (
        1800,
        3600,
    )
    assert settings.approval.emergency_needs_second is False  # one approval for an emergency


def test_the_chain_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = '[["manager"], [" slack:U0BOSS ", "telegram:123"]]'
    monkeypatch.setenv("REPLENISH_EMERGENCY__APPROVERS", chain)
    assert Settings().emergency.approvers == [["manager"], ["slack:U0BOSS", "telegram:123"]]


@pytest.mark.parametrize("chain", [[], [[]], [["boss"]], [["slack:"]], [["slack:U 1"]]])
def test_a_bad_chain_is_refused(chain: list[list[str]]) -> None:
    with pytest.raises(ValidationError):
        Settings(emergency={"approvers": chain})

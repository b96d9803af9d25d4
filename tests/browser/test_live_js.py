"""The screens' shared connection module (static/js/lib/live.js), run in Chromium against stand-in
sockets: idempotency keys across retries and double taps, and version tracking with snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Screens

pytestmark = pytest.mark.browser

COMMANDS_JS = """async () => {
  const { Live } = await import("/static/js/lib/live.js");
  const sent = [];
  const answers = [];
  const live = new Live({ token: "x", page: "test", t: (key) => key, banner: null });
  live.socket = {
    connected: true,
    timeout() { return this; },
    emitWithAck(event, body) {
      sent.push(body);
      return new Promise((resolve) => setTimeout(() => resolve(answers.shift()), 20));
    },
  };
  const pay = { transaction_id: 1, amount_paid: "50.00", method: "cash" };
  const keyOf = (i) => sent[i].idempotency_key;
  answers.push({ ok: false, error: { code: "timeout" } });
  await live.command("cashier_pay", pay, { keyed: true });        // no answer: may have been applied
  answers.push({ ok: true });
  await live.command("cashier_pay", pay, { keyed: true });        // the retry: same key
  answers.push({ ok: false, error: { code: "insufficient_payment" } });
  await live.command("cashier_pay", pay, { keyed: true });        // a new action: a new key
  answers.push({ ok: true });
  await live.command("cashier_pay", { ...pay, amount_paid: "60.00" }, { keyed: true });
  answers.push({ ok: true });
  const [first, second] = await Promise.all([                     // a double tap: sent once
    live.command("therapist_confirm_next", {}, { keyed: true }),
    live.command("therapist_confirm_next", {}, { keyed: true }),
  ]);
  live.socket.connected = false;
  const offline = await live.command("queue_snapshot");
  return {
    keys: sent.map((body, i) => keyOf(i)),
    sent: sent.length,
    sameAnswer: first === second,
    offline,
    valid: sent.every((body) => /^[A-Za-z0-9_.:-]{1,64}$/.test(body.idempotency_key)),
  };
}"""

VERSIONS_JS = """async () => {
  const { VersionedState } = await import("/static/js/lib/live.js");
  const applied = [];
  const loads = [];
  let server = 10;
  const state = new VersionedState({
    load: async () => { loads.push(server); return { version: server }; },
    reset: (snapshot) => applied.push(`snapshot ${snapshot.version}`),
    apply: (message) => applied.push(message.version),
    render: () => {},
  });
  await state.resync();                      // snapshot at 10
  state.receive({ version: 9 });             // old: ignored
  state.receive({ version: 10 });            // had it: ignored
  state.receive({ version: 11 });            // next: applied
  server = 14;
  state.receive({ version: 14 });            // a gap (12, 13 missed): snapshot, then on from there
  await new Promise((resolve) => setTimeout(resolve, 20));
  state.receive({ version: 15 });
  return { applied, loads, version: state.version };
}"""


def test_idempotency_keys_double_taps_and_versions(screens: Screens) -> None:
    page = screens.open("lobby", online=False)  # any page: it serves the modules

    result: dict[str, Any] = page.evaluate(COMMANDS_JS)
    keys = result["keys"]
    assert result["sent"] == 5 and result["valid"]
    assert keys[0] == keys[1], "a retry after a timeout must reuse its key"
    assert len({keys[1], keys[2], keys[3], keys[4]}) == 4, "each new action gets a fresh key"
    assert result["sameAnswer"], "a double tap joins the command already on its way"
    assert result["offline"] == {"ok": False, "error": {"code": "offline", "message": ""}}

    result = page.evaluate(VERSIONS_JS)
    assert result["applied"] == ["snapshot 10", 11, "snapshot 14", 15]
    assert result["loads"] == [10, 14]
    assert result["version"] == 15

// The live connection every screen uses: Socket.IO over WebSocket with the screen's token,
// a visible "reconnecting" state, commands with acknowledgement timeouts and idempotency keys,
// and a versioned copy of the queue that rebuilds itself from a snapshot after a gap.

import { config, retryClass } from "./config.js";

const DEFAULT_TIMEOUT_MS = (config.command_timeout_s || 10) * 1000;
const REFUSED_RETRY_MS = 30000; // a refused token is retried slowly (it may be re-issued)
const BUSY_RETRY_MS = 3000; // a server without its database refuses briefly
const SNAPSHOT_RETRY_MS = 2000;
const MAX_PENDING = 500; // broadcasts held while a snapshot is on its way

let keyCounter = 0;

/** A fresh idempotency key: 1-64 characters of [A-Za-z0-9_.:-]. */
export function newKey(prefix) {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  const random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  keyCounter = (keyCounter + 1) % 1e6;
  return `${prefix}-${Date.now().toString(36)}-${keyCounter.toString(36)}-${random}`;
}

// No answer came (the page's own codes, not the server's): the server may or may not have acted.
const TRANSPORT_FAILURES = new Set(["timeout", "offline"]);

/** Whether the same action, tried again, must reuse its idempotency key: no answer came, or the
 * server's refusal is of the contract's "retry" class (the command may land later). */
function retriable(code) {
  return TRANSPORT_FAILURES.has(code) || retryClass(code) === "retry";
}

export class Live {
  /**
   * token: the Socket.IO auth token. onConnect(live): runs after every (re)connection — join
   * rooms, fetch the snapshot; the "reconnecting" banner stays until it resolves.
   * onRefused(reason): the server refused the token. banner: the element that shows the state.
   */
  constructor({ token, page, t, onConnect, onRefused, banner }) {
    this.token = token;
    this.page = page;
    this.t = t;
    this.onConnect = onConnect;
    this.onRefused = onRefused;
    this.banner = banner || document.getElementById("connection");
    this.socket = null;
    this.state = "connecting";
    this.retryTimer = null;
    this.inFlight = new Map(); // signature → promise: a double tap joins the first tap
    this.lastUncertain = null; // {signature, key} of the last attempt that may have been applied
    this.connectedOnce = false;
  }

  start() {
    const socket = window.io(location.origin, {
      auth: { token: this.token },
      transports: ["websocket"],
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      timeout: 8000,
    });
    this.socket = socket;
    this._setState(this.connectedOnce ? "reconnecting" : "connecting");
    socket.on("connect", () => this._connected());
    socket.on("disconnect", (reason) => {
      this._setState("reconnecting");
      if (reason === "io server disconnect") this._retry(BUSY_RETRY_MS); // the server dropped us: ask again
    });
    socket.on("connect_error", (err) => {
      if (socket.active) {
        this._setState(this.connectedOnce ? "reconnecting" : "connecting");
        return; // the manager retries by itself (server down, network gone)
      }
      // The server's refusal: {message, data: {code}} ("forbidden": a bad token, "busy": no database).
      // A final one (the contract's class) is asked again slowly: the token may be re-issued.
      const text = String((err && err.message) || "");
      const code = (err && err.data && err.data.code) || (text.includes("forbidden") ? "forbidden" : "");
      if (code && retryClass(code) === "final") {
        this._setState("refused");
        if (this.onRefused) this.onRefused(text);
        this._retry(REFUSED_RETRY_MS);
      } else {
        this._setState(this.connectedOnce ? "reconnecting" : "connecting");
        this._retry(BUSY_RETRY_MS);
      }
    });
    return this;
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
    this.inFlight.clear();
    this._setState("idle");
  }

  on(event, handler) {
    this.socket.on(event, handler);
  }

  get connected() {
    return Boolean(this.socket && this.socket.connected);
  }

  /**
   * Sends a command and resolves with its acknowledgement, never rejects: failures come back as
   * {ok: false, error: {code, message}} with code "timeout" or "offline" for transport trouble.
   * keyed: add an idempotency key (fresh per action; reused when retrying an uncertain attempt).
   */
  command(event, payload = undefined, { keyed = false, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    const signature = `${event} ${JSON.stringify(payload === undefined ? null : payload)}`;
    const running = this.inFlight.get(signature);
    if (running) return running;
    let body = payload;
    let key = null;
    if (keyed) {
      key = this.lastUncertain && this.lastUncertain.signature === signature ? this.lastUncertain.key : newKey(this.page);
      body = { ...(payload || {}), idempotency_key: key };
    }
    const promise = this._send(event, body, timeoutMs).then((ack) => {
      this.inFlight.delete(signature);
      if (keyed) {
        const uncertain = !ack.ok && retriable(ack.error && ack.error.code);
        this.lastUncertain = uncertain ? { signature, key } : null;
      }
      return ack;
    });
    this.inFlight.set(signature, promise);
    return promise;
  }

  async _send(event, body, timeoutMs) {
    if (!this.connected) return { ok: false, error: { code: "offline", message: "" } };
    try {
      const socket = this.socket.timeout(timeoutMs);
      const ack = body === undefined ? await socket.emitWithAck(event) : await socket.emitWithAck(event, body);
      if (ack && typeof ack === "object" && "ok" in ack) return ack;
      return { ok: false, error: { code: "internal_error", message: "unexpected answer" } };
    } catch (err) {
      return { ok: false, error: { code: "timeout", message: "" } };
    }
  }

  async _connected() {
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    try {
      if (this.onConnect) await this.onConnect(this);
    } catch (err) {
      console.error("after connecting:", err);
    }
    if (this.socket === socket && socket.connected) {
      this.connectedOnce = true;
      this._setState("online");
    }
  }

  _retry(delayMs) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.socket && !this.socket.connected && !this.socket.active) this.socket.connect();
    }, delayMs);
  }

  _setState(state) {
    this.state = state;
    document.documentElement.dataset.connection = state;
    if (!this.banner) return;
    const quiet = state === "online" || state === "idle";
    this.banner.textContent = quiet ? "" : this.t(state);
    this.banner.hidden = quiet;
  }
}

/**
 * A copy of server state that follows the version numbers of the broadcasts: versions it has
 * seen are ignored, the next one is applied, and a gap (or a reconnection) rebuilds it from a
 * snapshot, applying whatever arrived meanwhile on top.
 */
export class VersionedState {
  constructor({ load, reset, apply, render }) {
    this.load = load; // async () → snapshot | null
    this.reset = reset; // (snapshot) → void
    this.apply = apply; // (broadcast) → void
    this.render = render; // () → void
    this.version = null;
    this.pending = [];
    this.syncing = false;
    this.again = false;
    this.retryTimer = null;
  }

  /** Rebuild from a snapshot; concurrent calls collapse into one more round. */
  async resync() {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    clearTimeout(this.retryTimer);
    try {
      do {
        this.again = false;
        const snapshot = await this.load();
        if (!snapshot) {
          this.retryTimer = setTimeout(() => this.resync(), SNAPSHOT_RETRY_MS);
          return;
        }
        this.reset(snapshot);
        this.version = snapshot.version;
        this.again = this._drain() || this.again;
      } while (this.again);
    } finally {
      this.syncing = false;
      this.render();
    }
  }

  /** A broadcast with a version. */
  receive(message) {
    if (!message || typeof message.version !== "number") return;
    if (this.syncing || this.version === null) {
      if (this.pending.length < MAX_PENDING) this.pending.push(message);
      else this.again = true;
      if (this.version === null && !this.syncing) this.resync();
      return;
    }
    if (message.version <= this.version) return;
    if (message.version > this.version + 1) {
      this.pending.push(message);
      this.resync();
      return;
    }
    this.apply(message);
    this.version = message.version;
    this.render();
  }

  /** Applies held broadcasts newer than the snapshot; true when a gap remains. */
  _drain() {
    const held = this.pending.sort((a, b) => a.version - b.version);
    this.pending = [];
    for (const message of held) {
      if (message.version <= this.version) continue;
      if (message.version > this.version + 1) return true;
      this.apply(message);
      this.version = message.version;
    }
    return false;
  }
}

/**
 * Runs an action from a button: the button is disabled until the action settles, so a double
 * tap cannot start it twice. Resolves with the action's result.
 */
export async function whileBusy(button, action) {
  if (button && button.dataset.busy === "1") return null;
  if (button) {
    button.dataset.busy = "1";
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  try {
    return await action();
  } finally {
    if (button) {
      delete button.dataset.busy;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

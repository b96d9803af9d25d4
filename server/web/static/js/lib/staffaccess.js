// Who acts on a staff screen that either a device or a person opens (/desk, /therapist), and the
// screen's one live connection. The address may carry a device token (dv_…) or a staff token; a
// person signs in with name + PIN or pastes a staff token. When the server refuses a person's
// token, or the sign-in runs out, the screen asks again; a device token is fixed by provisioning,
// so its refusal is left to the connection banner.

import { deviceToken, stored } from "./config.js";
import { $, flash, showOnly } from "./dom.js";
import { Live } from "./live.js";
import { SignIn, saveSession, savedSession, signOut } from "./signin.js";

const TICK_MS = 30000; // a run-out sign-in is noticed within this; waiting times move on by minutes

export class StaffAccess {
  /**
   * page: the screen ("desk"), for its storage and idempotency keys. roles: who may sign in here.
   * work: the element shown instead of #signin while someone (or the device) acts.
   * onConnect(live): after every (re)connection. listen(live): a new connection's broadcasts.
   * forget(): drops the screen's own state of a sign-in that ended. render(): draws the screen.
   * onSignIn(): a person signed in or pasted a token. onShowSignIn(): adjusts the sign-in as it
   * opens. onCancel: the sign-in's Cancel button (none without it). keepDevice: a sign-out leaves
   * a device's connection up, as the device carries on as itself.
   */
  constructor({ page, t, roles, work, onConnect, listen, forget, render, onSignIn, onShowSignIn, onCancel, keepDevice = false }) {
    this.page = page;
    this.t = t;
    this.work = work;
    this.hooks = { onConnect, listen, forget, render, onSignIn, onShowSignIn };
    this.keepDevice = keepDevice;
    const fromAddress = deviceToken(page);
    this.device = fromAddress && fromAddress.startsWith("dv_") ? fromAddress : null;
    if (fromAddress && !this.device) stored.set(page, "staff_token", fromAddress); // a person's, in the address
    this.session = savedSession(page); // {token, staff: {id, name, role}, expires_at}
    this.live = null;
    this.signIn = new SignIn($("#signin"), {
      t,
      roles,
      allowToken: true,
      onSignedIn: (session) => this._signedIn(session, null),
      onToken: (token) => this._signedIn(null, token),
      onCancel,
    });
  }

  /** The person's own token: their sign-in's, or a staff token from the address or pasted. */
  staffToken() {
    return (this.session && this.session.token) || stored.get(this.page, "staff_token");
  }

  /** The token the screen connects with. */
  token() {
    return this.device || this.staffToken();
  }

  /** Shows the screen and, from then on, asks again when a sign-in runs out (it lasts a working
   * day); tick() runs at the same pace while connected, for what moves on with the clock. */
  start(tick) {
    this.enter();
    setInterval(() => {
      if (this.session && !savedSession(this.page)) this.restart();
      else if (this.live) tick();
    }, TICK_MS);
  }

  /** Shows the work, connected with the current token; the sign-in when there is none. */
  enter() {
    const token = this.token();
    if (!token) {
      this.showSignIn();
      return;
    }
    showOnly([$("#signin"), this.work], this.work);
    if (!this.live || this.live.token !== token) {
      if (this.live) this.live.stop();
      this.live = new Live({
        token,
        page: this.page,
        t: this.t,
        onConnect: (live) => this.hooks.onConnect(live),
        onRefused: () => this._refused(),
      }).start();
      this.hooks.listen(this.live);
    }
    this.hooks.render();
  }

  showSignIn(message) {
    showOnly([$("#signin"), this.work], $("#signin"));
    if (this.hooks.onShowSignIn) this.hooks.onShowSignIn();
    this.signIn.open();
    if (message) flash($("#signin .signin-error"), message, 10000);
    this.hooks.render();
  }

  /** Forgets who was signed in, here and on the server. */
  forget() {
    signOut(this.page, this.session);
    this.session = null;
    stored.set(this.page, "staff_token", null);
    this.hooks.forget();
  }

  /** Signing out: forgets who was signed in and starts over with whatever token is left. */
  restart() {
    this.forget();
    if (this.live && !(this.keepDevice && this.device)) {
      this.live.stop();
      this.live = null;
    }
    this.enter();
  }

  /** A sign-in with name + PIN (a session), or a pasted staff token: the one replaces the other. */
  _signedIn(session, staffToken) {
    this.session = session;
    saveSession(this.page, session);
    stored.set(this.page, "staff_token", staffToken);
    if (this.hooks.onSignIn) this.hooks.onSignIn();
    this.enter();
  }

  _refused() {
    if (this.device) return; // the banner says it; a device token is fixed by provisioning
    this.forget();
    this.live.stop();
    this.live = null;
    this.showSignIn(this.t("refused"));
  }
}

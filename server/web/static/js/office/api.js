// The back office's JSON calls (/api/office/…) with the admin's sign-in, kept in sessionStorage
// under "spa.office.token": the reports page (/office/reports) reads the same key, and a closed
// tab forgets it.

export const TOKEN_KEY = "spa.office.token";
const WHO_KEY = "spa.office.who";

export const session = {
  token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch (err) {
      return null;
    }
  },
  who() {
    try {
      return sessionStorage.getItem(WHO_KEY) || "";
    } catch (err) {
      return "";
    }
  },
  save(token, who) {
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(WHO_KEY, who);
    } catch (err) {
      // Storage disabled: signed in until the page reloads.
    }
  },
  forget() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(WHO_KEY);
    } catch (err) {
      // Nothing kept.
    }
  },
};

/** An error the page shows: {code, message} as the server sent it (or "offline"). */
export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** call("GET", "services") → the answer's body; throws ApiError. */
export async function call(method, path, body = undefined) {
  const headers = { Authorization: `Bearer ${session.token() || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api/office/${path}`, {
      method,
      headers,
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError("offline", "");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || !answer.ok) {
    const error = answer.error || {};
    throw new ApiError(error.code || "internal_error", error.message || "", response.status);
  }
  return answer;
}

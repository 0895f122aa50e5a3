// Passkeys (WebAuthn) on Sigil's pages. The server's begin endpoints
// answer the options as JSON (binary fields in base64url); this script
// calls navigator.credentials, puts the browser's credential (JSON) into
// the form's hidden field and submits the form, so the finish is an
// ordinary form post. Without WebAuthn the passkey controls stay hidden.
"use strict";

const b64 = {
  decode(s) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  },
  encode(buf) {
    let bin = "";
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

// creationOptions / requestOptions turn the JSON options into what
// navigator.credentials takes (the parse*FromJSON helpers, where missing).
function creationOptions(o) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
  return { ...o, challenge: b64.decode(o.challenge), user: { ...o.user, id: b64.decode(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64.decode(c.id) })) };
}
function requestOptions(o) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
  return { ...o, challenge: b64.decode(o.challenge),
    allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: b64.decode(c.id) })) };
}

// credentialJSON is PublicKeyCredential.toJSON, where missing.
function credentialJSON(c) {
  if (typeof c.toJSON === "function") return JSON.stringify(c.toJSON());
  const r = c.response; const out = { clientDataJSON: b64.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    out.attestationObject = b64.encode(r.attestationObject);
    out.transports = r.getTransports ? r.getTransports() : [];
  } else {
    out.authenticatorData = b64.encode(r.authenticatorData);
    out.signature = b64.encode(r.signature);
    if (r.userHandle) out.userHandle = b64.encode(r.userHandle);
  }
  return JSON.stringify({ id: c.id, rawId: b64.encode(c.rawId), type: c.type, response: out,
    authenticatorAttachment: c.authenticatorAttachment, clientExtensionResults: c.getClientExtensionResults() });
}

// begin posts form (its CSRF field) to url and returns the options.
async function begin(url, form) {
  const res = await fetch(url, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" });
  const body = await res.json();
  if (!res.ok) throw new Error(body.detail || "The passkey could not be started.");
  return body;
}

// fail shows message in the page's alert region (made if missing) and
// gives the form its buttons back.
function fail(form, message) {
  delete form.dataset.sending;
  for (const b of form.querySelectorAll("button")) { b.disabled = false; b.removeAttribute("aria-busy"); }
  let alert = document.querySelector("[role=alert]");
  if (!alert) {
    alert = document.createElement("p");
    alert.className = "alert";
    alert.setAttribute("role", "alert");
    form.before(alert);
  }
  alert.textContent = message;
}

// run does one ceremony for form: get the credential, fill field, submit.
async function run(form, field, ceremony) {
  try {
    form.elements[field].value = credentialJSON(await ceremony());
    form.submit();
  } catch (err) {
    if (err && err.name === "AbortError") return;
    fail(form, err && err.name === "NotAllowedError"
      ? "The passkey request was cancelled or timed out. Try again."
      : (err && err.message) || "The passkey did not work. Try again.");
  }
}

let conditional; // the AbortController of a pending autofill request

function wire() {
  if (!window.PublicKeyCredential) return;
  for (const el of document.querySelectorAll(".passkey-step")) el.hidden = false;

  // The dashboard: register a passkey with the name typed in.
  for (const form of document.querySelectorAll("form[data-passkey-register]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(form, "credential", async () => {
        const opts = await begin("/dashboard/security/passkey/begin", form);
        return navigator.credentials.create({ publicKey: creationOptions(opts.publicKey) });
      });
    });
  }
  // The second step: the options came with the page.
  for (const form of document.querySelectorAll("form[data-passkey-get]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const opts = JSON.parse(form.dataset.passkeyGet);
      run(form, "webauthn", () => navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) }));
    });
  }
  // Sign-in: the button, and autofill on the email field where offered.
  for (const form of document.querySelectorAll("form[data-passkey-login]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (conditional) conditional.abort();
      run(form, "credential", async () => {
        const opts = await begin("/login/passkey/begin", form);
        return navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) });
      });
    });
    autofill(form);
  }
}

// autofill offers the person's passkeys in the email field's suggestions
// (conditional mediation), where the browser supports it; not on a page
// that reports a failed attempt, which should not be offered again at once.
async function autofill(form) {
  const alert = document.querySelector("[role=alert]");
  if (alert && alert.textContent.trim()) return;
  if (!PublicKeyCredential.isConditionalMediationAvailable || !(await PublicKeyCredential.isConditionalMediationAvailable())) return;
  conditional = new AbortController();
  const signal = conditional.signal;
  run(form, "credential", async () => {
    const opts = await begin("/login/passkey/begin", form);
    return navigator.credentials.get({ mediation: "conditional", signal, publicKey: requestOptions(opts.publicKey) });
  });
}

wire();

// The UserManager of the demo SPA, configured from the harness's
// /config.json: a public client using the authorization code flow with
// PKCE (oidc-client-ts always sends S256), tokens in sessionStorage.
const { UserManager } = globalThis.oidc;

export async function userManager() {
  const res = await fetch('/config.json');
  if (!res.ok) throw new Error(`GET /config.json: HTTP ${res.status}`);
  const cfg = await res.json();
  return new UserManager({
    authority: cfg.authority,
    client_id: cfg.client_id,
    redirect_uri: `${location.origin}/callback.html`,
    post_logout_redirect_uri: `${location.origin}/`,
    scope: 'openid email profile read',
    response_type: 'code',
    loadUserInfo: true, // profile.email from /oauth2/userinfo, whatever the ID token holds
    automaticSilentRenew: false, // the tests refresh on purpose only
  });
}

// show puts a message in #status (and in the console when it is an error).
export function show(msg, err) {
  document.getElementById('status').textContent = msg;
  if (err) console.error(msg, err);
}

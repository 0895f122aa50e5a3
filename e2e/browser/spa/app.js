import { userManager, show } from './oidc.js';

const $ = (id) => document.getElementById(id);
let mgr;

// render shows who is signed in and until when the access token holds.
async function render(msg) {
  const user = await mgr.getUser();
  const live = user && !user.expired;
  $('who').textContent = live ? (user.profile.email ?? '') : '';
  $('expires').textContent = live ? new Date(user.expires_at * 1000).toISOString() : '';
  show(msg ?? (live ? 'Signed in' : 'Not signed in'));
}

// on runs fn on a click of button id, showing its failure in #status.
function on(id, fn) {
  $(id).addEventListener('click', async () => {
    try {
      await fn();
    } catch (err) {
      show(`${$(id).textContent} failed: ${err.message}`, err);
    }
  });
}

on('signin', () => mgr.signinRedirect());

on('call', async () => {
  $('api').textContent = '';
  const user = await mgr.getUser();
  const headers = user ? { Authorization: `Bearer ${user.access_token}` } : {};
  const res = await fetch('/api/hello', { headers });
  $('api').textContent = res.ok ? JSON.stringify(await res.json()) : `HTTP ${res.status}`;
});

on('refresh', async () => {
  await mgr.signinSilent(); // with a refresh token: grant_type=refresh_token, no iframe
  await render('Token refreshed');
});

on('signout', () => mgr.signoutRedirect());

try {
  mgr = await userManager();
  const params = new URLSearchParams(location.search);
  if (params.has('state') || params.has('error')) {
    // Back from the end-session endpoint: drop the stored logout state.
    await mgr.signoutRedirectCallback();
    history.replaceState(null, '', '/');
  }
  await render();
} catch (err) {
  show(`Error: ${err.message}`, err);
}

// Step-up (API.md §11, OIDC acr_values): an app that asks for
// acr_values=aal2 gets no code for a password-only browser session. The
// person, with no second factor yet, is sent to the security page, adds a
// passkey there (a CDP virtual authenticator), continues to the app, does
// the second step with the passkey, and only then does the app get its
// code, whose ID token says acr aal2.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, SPA, authenticator, bodyText, button, checkA11y, field, fillLogin, launch, link, openPage, shoot, signUp, submit, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('step-up: acr_values=aal2 sends a password-only session to add a passkey and use it', async () => {
  const email = uniqueEmail('stepup');
  await signUp(email);
  const { client_id: clientId } = await (await fetch(`${SPA}/config.json`)).json();
  const { context, page, problems } = await openPage(browser);
  await authenticator(page);
  // The SPA's registered callback: its oidc-client-ts did not start
  // this request, so it refuses the answer ("No matching state") and
  // leaves the code unspent for the exchange below.
  const redirectURI = `${SPA}/callback.html`;

  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, email, PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/account', `signed in to ${page.url()}`);

  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectURI, scope: 'openid email',
    state: 'st-up', code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256', acr_values: 'aal2',
  });
  await page.goto(`${SIGIL}/oauth2/authorize?${q}`);
  const at = new URL(page.url());
  assert.ok(at.pathname === '/dashboard/security' && at.searchParams.get('stepup') === '1',
    `authorize led to ${at}: ${await bodyText(page)}`);
  assert.match(await bodyText(page), /The app you are signing in to asks for two-step verification/);
  await shoot(page, 'stepup-enrol');
  await checkA11y(page, 'stepup-enrol');

  await field(page, 'Passkey name').fill('Step-up laptop');
  await submit(page, button(page, 'Add passkey'));
  await page.waitForURL((u) => u.searchParams.get('passkey') === '1');
  await shoot(page, 'stepup-continue');
  await submit(page, link(page, 'Continue to the app'));

  // The session is still one factor: the second step, with the passkey.
  await button(page, 'Use your passkey').waitFor();
  assert.match(await bodyText(page), /Confirm it's you/);
  await shoot(page, 'stepup-second-step');
  await checkA11y(page, 'stepup-second-step');
  await submit(page, button(page, 'Use your passkey'));
  await page.waitForURL((u) => u.href.startsWith(redirectURI));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), 'st-up');
  assert.equal(back.searchParams.get('error'), null, `the app got ${back.search}`);

  const res = await fetch(`${SIGIL}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: redirectURI,
      client_id: clientId, code_verifier: verifier,
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const tokens = await res.json();
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.acr, 'aal2');
  assert.deepEqual(claims.amr.slice(0, 1), ['pwd']);
  assert.equal(claims.amr.length, 2, `amr ${claims.amr}`);
  const access = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'));
  assert.equal(access.aal, 'aal2');

  await context.close();
  assert.deepEqual(problems.filter((p) => !p.startsWith(`${redirectURI}?`)), []);
});

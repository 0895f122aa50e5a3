// Two-step verification (API.md §13) as a person uses it: turn on an
// authenticator app on the dashboard (QR code and key shown, the key
// copied, a first code computed here from it as an app would), make
// recovery codes, sign out, and sign in with the password and then a
// code; a recovery code works once. Every page is screenshotted and
// checked with axe-core.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, bodyText, button, checkA11y, expectAlert, field, fillLogin, launch, link, openPage, shoot, signUp,
  submit, uniqueEmail,
} from './helpers.mjs';

// base32 decodes RFC 4648 base32 (no padding), as TOTP secrets are written.
function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0; let value = 0; const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

// totp is RFC 6238's code (SHA-1, 6 digits, 30 s) for secret, `ahead`
// steps after now.
function totp(secret, ahead = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + ahead));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('authenticator app: enrol on the dashboard, then sign in with a code or a recovery code', async () => {
  const email = uniqueEmail('mfa');
  await signUp(email);
  const { context, page, problems } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: SIGIL });
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, email, PASSWORD);
  await page.goto(`${SIGIL}/dashboard/security`);
  await link(page, 'Security').waitFor();
  assert.match(await bodyText(page), /Two-step verification is off/);
  await shoot(page, 'dash-security-off');
  await checkA11y(page, 'dash-security-off');

  // Enrol: the QR code and the key; Copy copies the key.
  await submit(page, button(page, 'Set up authenticator app'));
  await page.locator('.qr svg').waitFor();
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await button(page, 'Copy').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await shoot(page, 'dash-security-enrol');
  await checkA11y(page, 'dash-security-enrol');
  // A wrong first code is explained and the enrolment stays on screen.
  await field(page, 'Code from the app').fill('000000');
  let res = await submit(page, button(page, 'Turn on'));
  assert.equal(res.status(), 401);
  await expectAlert(page, /That code is not valid/);
  assert.equal((await page.locator('#totp-secret').innerText()).trim(), secret);
  await field(page, 'Code from the app').fill(totp(secret));
  await submit(page, button(page, 'Turn on'));
  assert.match(await bodyText(page), /Two-step verification is on/);
  assert.match(await bodyText(page), /Authenticator app\s+active/);
  await shoot(page, 'dash-security-on');
  await checkA11y(page, 'dash-security-on');

  // Recovery codes: ten, shown once, copied with the button.
  await submit(page, button(page, 'Generate recovery codes'));
  const codes = (await page.locator('#recovery-codes').innerText()).trim().split(/\s+/);
  assert.equal(codes.length, 10);
  assert.match(await bodyText(page), /You won't see them again\. Store them now\./);
  await page.locator('[data-copy="recovery-codes"]').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.deepEqual((await page.evaluate(() => navigator.clipboard.readText())).trim().split(/\s+/), codes);
  await shoot(page, 'dash-security-codes');
  await checkA11y(page, 'dash-security-codes');

  // Sign out, then in: password, then the second step.
  await submit(page, button(page, 'Sign out'));
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, email, PASSWORD);
  assert.match(await bodyText(page), /Two-step verification/);
  await field(page, 'Authentication code').waitFor();
  await shoot(page, 'login-mfa');
  await checkA11y(page, 'login-mfa');
  await field(page, 'Authentication code').fill('123456');
  res = await submit(page, button(page, 'Verify'));
  assert.equal(res.status(), 401);
  await expectAlert(page, /That code is not valid/);
  await shoot(page, 'login-mfa-wrong');
  await checkA11y(page, 'login-mfa-wrong');
  // The next step's code: the enrolment spent this one's.
  await field(page, 'Authentication code').fill(totp(secret, 1));
  await submit(page, button(page, 'Verify'));
  await page.waitForURL(`${SIGIL}/account`);

  // A recovery code signs in once; the second time it is refused.
  for (const [i, want] of [[0, 200], [1, 401]]) {
    const other = await openPage(browser);
    await other.page.goto(`${SIGIL}/login`);
    await fillLogin(other.page, email, PASSWORD);
    await field(other.page, 'Authentication code').fill(codes[0]);
    res = await submit(other.page, button(other.page, 'Verify'));
    assert.equal(res.status(), want, `recovery code, use ${i + 1}`);
    await other.context.close();
  }
  assert.deepEqual(problems, []);
});

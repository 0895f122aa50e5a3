// The dashboard's single sign-on page, as a workspace owner uses it: the
// list of connections, adding an OpenID connection (the kind first, then
// its form), the values to paste at the IdP with a working copy button,
// an edit that keeps the stored secret, a test that reports the IdP's
// problems, and deleting the connection after its confirmation. Every
// page is screenshotted and checked with axe-core like the other
// dashboard pages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, alerts, bodyText, button, checkA11y, expectAlert, field, fillLogin, launch, link, openPage, shoot,
  submit,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an owner adds an OpenID connection, copies its redirect URI, tests it and deletes it', async () => {
  const owner = process.env.OWNER_EMAIL;
  assert.ok(owner, 'OWNER_EMAIL is not set');
  const { context, page, problems } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: SIGIL });
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, owner, PASSWORD);

  await page.goto(`${SIGIL}/dashboard/api-keys`);
  await link(page, 'Single sign-on').click();
  await page.waitForURL(`${SIGIL}/dashboard/sso`);
  assert.match(await bodyText(page), /Test IdP[\s\S]*OpenID Connect[\s\S]*idp\.test/); // the harness's connection
  await shoot(page, 'dashboard-sso-list');
  await checkA11y(page, 'dashboard-sso-list');

  await link(page, 'Add a connection').click();
  await page.waitForURL(`${SIGIL}/dashboard/sso/new`);
  await shoot(page, 'dashboard-sso-kind');
  await checkA11y(page, 'dashboard-sso-kind');
  // The other kinds' forms, looked at only.
  for (const kind of ['apple', 'saml']) {
    await page.goto(`${SIGIL}/dashboard/sso/new?kind=${kind}`);
    await shoot(page, `dashboard-sso-new-${kind}`);
    await checkA11y(page, `dashboard-sso-new-${kind}`);
  }
  assert.equal(await page.getByLabel('Allow IdP-initiated sign-in').isChecked(), false);
  await page.goto(`${SIGIL}/dashboard/sso/new`);
  await page.getByRole('link', { name: /^OpenID Connect/ }).click();
  await page.waitForURL(`${SIGIL}/dashboard/sso/new?kind=oidc`);
  await field(page, 'Name').fill('Acme Okta');
  await field(page, 'Issuer URL').fill('https://acme.okta.example');
  await field(page, 'Client ID').fill('0oa1sigil');
  await field(page, 'Client secret').fill('okta-secret');
  await field(page, 'Email domains').fill('acme-sso.test');
  await shoot(page, 'dashboard-sso-new');
  await checkA11y(page, 'dashboard-sso-new');
  // A refusal keeps what was typed, except the secret.
  await field(page, 'Email domains').fill('acme-sso.test, not_a_domain');
  assert.equal((await submit(page, button(page, 'Add connection'))).status(), 400);
  await expectAlert(page, /"not_a_domain" is not a domain name/);
  assert.equal(await field(page, 'Issuer URL').inputValue(), 'https://acme.okta.example');
  assert.equal(await field(page, 'Client secret').inputValue(), '');
  await field(page, 'Email domains').fill('acme-sso.test');
  await field(page, 'Client secret').fill('okta-secret');
  assert.equal((await submit(page, button(page, 'Add connection'))).status(), 200);
  await page.waitForURL(new RegExp(`/dashboard/sso/conn_[a-z0-9]+\\?created=1$`));

  const redirect = (await page.locator('#redirect-value').innerText()).trim();
  assert.match(redirect, new RegExp(`^${SIGIL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/sso/conn_[a-z0-9]+/callback$`));
  assert.match(await bodyText(page), /Connection added\.[\s\S]*docs\/sso\/google\.md/);
  assert.ok(!(await bodyText(page)).includes('okta-secret'), 'the client secret is shown');
  await button(page, 'Copy redirect URI').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), redirect);
  await shoot(page, 'dashboard-sso-detail');
  await checkA11y(page, 'dashboard-sso-detail');

  // Editing keeps the stored secret when its field is left empty.
  await link(page, 'Edit Acme Okta').click();
  assert.match(await bodyText(page), /A client secret is stored — leave empty to keep it\./);
  assert.equal(await field(page, 'Client secret').inputValue(), '');
  await shoot(page, 'dashboard-sso-edit');
  await checkA11y(page, 'dashboard-sso-edit');
  await field(page, 'Role of new accounts').selectOption('admin');
  await submit(page, button(page, 'Save connection'));
  assert.match(await bodyText(page), /Connection saved\.[\s\S]*Role of new accounts\s*Admin[\s\S]*Client secret\s*Stored/);

  // The issuer does not exist: the test says it cannot be reached.
  await submit(page, button(page, 'Test connection'));
  await expectAlert(page, /unreachable/);
  await shoot(page, 'dashboard-sso-test-problems');
  await checkA11y(page, 'dashboard-sso-test-problems');

  await link(page, 'Delete connection').click();
  assert.match(await bodyText(page), /Delete the connection Acme Okta\?[\s\S]*The accounts stay/);
  await shoot(page, 'dashboard-sso-delete');
  await checkA11y(page, 'dashboard-sso-delete');
  await submit(page, button(page, 'Delete connection'));
  await page.waitForURL(`${SIGIL}/dashboard/sso?deleted=1`);
  const list = await bodyText(page);
  assert.match(list, /Connection deleted\./);
  assert.ok(!list.includes('Acme Okta'), 'the deleted connection is still listed');
  assert.deepEqual(await alerts(page), []);
  assert.deepEqual(problems, []);
  await context.close();
});

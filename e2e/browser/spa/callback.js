import { userManager, show } from './oidc.js';

try {
  const mgr = await userManager();
  await mgr.signinRedirectCallback();
  location.replace('/');
} catch (err) {
  show(`Sign-in failed: ${err.message}`, err);
}

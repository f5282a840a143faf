// Signing in and out through the screens, and the API called as the signed-in page's own
// script calls it (the session cookie and its CSRF token) — what several browser tests do
// around the steps they are about.

/** Signs `who` ({email, password}) in from the sign-in page and waits for the home page. */
export async function signIn(page, baseUrl, who) {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(who.email);
  await page.getByTestId('field-password').fill(who.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
}

/** Signs out with the header's button and waits for the sign-in page. */
export async function signOut(page, baseUrl) {
  await page.getByTestId('sign-out').click();
  await page.waitForURL(`${baseUrl}/signin`);
}

/** `method` on `/api/v1${path}` with the page's session: {status, body (parsed JSON or null)}. */
export async function sessionApi(page, baseUrl, method, path, body) {
  const session = await (await page.request.get(`${baseUrl}/api/v1/session`)).json();
  const answer = await page.request.fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { 'X-CSRF-Token': session.csrf_token, 'Content-Type': 'application/json', Accept: 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status(), body: text ? JSON.parse(text) : null };
}

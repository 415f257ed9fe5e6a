/** The queue UI's login page: one password field, posted to /queues/login (no script). */

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Where a login may send the browser next: a path under /queues, nothing else (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/queues(\/[\w\-.~%/]*)?$/.test(next) && !next.includes('//') ? next : '/queues/';
}

/** The page; `message` is one of the server's own sentences (never anything the caller sent but `next`, checked). */
export function loginPage(options: { message?: string; next?: string | undefined } = {}): string {
  const message = options.message ? `<p class="message" role="alert">${escape(options.message)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>rescreen queues — log in</title>
<style>
body { font-family: system-ui, sans-serif; background: #151a21; color: #dfe4ea; display: grid; place-items: center; min-height: 100vh; margin: 0; }
form { background: #1f2630; padding: 2rem; border-radius: 8px; width: min(26rem, 90vw); }
h1 { font-size: 1.2rem; margin: 0 0 1rem; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: .4rem 0 1rem; padding: .5rem; font: inherit; }
button { padding: .5rem; font: inherit; cursor: pointer; }
.message { color: #ff9b8f; }
.hint { color: #8b96a5; font-size: .85rem; }
</style>
</head>
<body>
<form method="post" action="/queues/login">
<h1>rescreen queues (Bull Board)</h1>
${message}
<label for="token">Operator token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escape(safeNext(options.next))}">
<button type="submit">Log in</button>
<p class="hint">An operator's RESCREEN_API_TOKEN(S) entry. The browser keeps an 8-hour session cookie, not the token.</p>
</form>
</body>
</html>
`;
}

// The tutorial's client steps with Node's own fetch: log in with JSON, test
// the token as a Bearer header, log out, test again. Over HTTPS with a
// self-signed certificate, Node trusts it through NODE_EXTRA_CA_CERTS:
//
//     NODE_EXTRA_CA_CERTS=cert.pem node examples/client.mjs https://127.0.0.1:5000
//
// Prints each answer; exits 1 when one is not what the server should say.
const base = process.argv[2] ?? "http://127.0.0.1:5000";
const json = { "Content-Type": "application/json", Accept: "application/json" };

async function step(name, path, options, check) {
  const response = await fetch(base + path, options);
  const body = await response.json();
  console.log(`${name}: ${response.status} ${JSON.stringify(body)}`);
  if (!check(response.status, body)) {
    console.error(`${name}: not what the server should answer`);
    process.exit(1);
  }
  return body;
}

const login = await step("login", "/login", {
  method: "POST",
  headers: json,
  body: JSON.stringify({ username: "magigo", password: "123456" }),
}, (status, body) => status === 200 && body.token_type === "Bearer");
const bearer = { Accept: "application/json", Authorization: `Bearer ${login.access_token}` };
await step("test", "/test", { headers: bearer },
  (status, body) => status === 200 && body.active === true && body.username === "magigo");
await step("logout", "/logout", { method: "POST", headers: bearer },
  (status, body) => status === 200 && body.revoked === true);
await step("test again", "/test", { headers: bearer },
  (status, body) => status === 401 && body.error === "invalid_token");

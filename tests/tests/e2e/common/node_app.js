// A Node.js app with Node's own HTTP server and its defaults (at most
// 16 KiB of headers): appends each request's headers and body to the JSON
// lines file it is given, and answers 204. For the tests of what bindery
// sends to servers stricter than its own.
const http = require('http');
const fs = require('fs');
const [port, log] = process.argv.slice(2);
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    fs.appendFileSync(log, JSON.stringify({ path: req.url, headers: req.headers, body }) + '\n');
    res.writeHead(204);
    res.end();
  });
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));

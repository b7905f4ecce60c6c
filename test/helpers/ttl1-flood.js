// Sends UDP datagrams with TTL 1 to argv[2] as fast as it can, bounded by argv[3] ms and
// argv[4] packets; prints how many it sent. Plain JS: it runs inside a test namespace.
'use strict';
const dgram = require('dgram');
const [dst, ms, max] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const s = dgram.createSocket('udp4');
const payload = Buffer.alloc(18);
let sent = 0;
const end = Date.now() + ms;
s.bind(() => {
  s.setTTL(1);
  const burst = () => {
    if (sent >= max || Date.now() >= end) {
      s.close();
      process.stdout.write(String(sent));
      return;
    }
    let pending = 256;
    for (let i = 0; i < 256; i++) {
      s.send(payload, 33434, dst, () => {
        if (--pending === 0) setImmediate(burst);
      });
      sent++;
    }
  };
  burst();
});

// The kernel's socket tables as porthouse reads them, from text captured on Linux: `ss -tin`
// with and without its state column, IPv4 and IPv6, and /proc/net/udp{,6}.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcNetUdp, parseSsTcp, socketKey } from '../../src/doors/kernel-socket-table.js';

const SS_WITH_STATE = `ESTAB 0      2671328 127.0.0.1:39001 127.0.0.1:37746
\t bbr wscale:10,10 rto:208 backoff:2 rtt:4.619/9.185 mss:47616 pmtu:65535 rcvmss:536 advmss:65483 cwnd:15 bytes_sent:163136 bytes_retrans:34464 bytes_acked:128672 segs_out:7 segs_in:6 data_segs_out:5 bbr:(bw:8104850096bps,mrtt:0.022,pacing_gain:2.88672,cwnd_gain:2.88672) send 1237046980bps lastsnd:1112 delivered:6 app_limited busy:1368ms rwnd_limited:1324ms(96.8%) retrans:0/1 dsack_dups:1 rcv_space:65483 notsent:2671328 minrtt:0.022
ESTAB 128672 0       127.0.0.1:37746 127.0.0.1:39001
\t bbr wscale:10,10 rto:200 rtt:0.031/0.015 ato:80 mss:32768 cwnd:10 bytes_acked:1 bytes_received:128672 segs_out:6 segs_in:8 minrtt:0.031 snd_wnd:65536
`;
const SS_NO_STATE = `0      0           [::1]:39002     [::1]:52466
\t bbr wscale:10,10 rto:204 rtt:0.011/0.005 mss:32768 pmtu:65536 cwnd:10 segs_in:2 minrtt:0.011 snd_wnd:65536
0 0 [fe80::1%lo]:80 [fe80::2%lo]:5000
`;

test('ss -tin: RTT and its variance, cwnd, retransmits, bytes in flight, unsent bytes and both queues', () => {
  const table = parseSsTcp(SS_WITH_STATE);
  assert.deepEqual(table.get(socketKey('127.0.0.1', 39001, '127.0.0.1', 37746)), {
    rttMs: 4.619,
    rttVarMs: 9.185,
    cwnd: 15,
    retransmits: 1,
    bytesInFlight: 163136 - 128671,
    notSent: 2671328,
    sendQueue: 2671328,
    receiveQueue: 0,
  });
  const reader = table.get(socketKey('127.0.0.1', 37746, '127.0.0.1', 39001))!;
  assert.deepEqual([reader.receiveQueue, reader.bytesInFlight, reader.retransmits], [128672, 0, 0]);
});

test('ss -tin without the state column, IPv6 in brackets, scope ids, and a socket without details', () => {
  const table = parseSsTcp(SS_NO_STATE);
  assert.equal(table.get(socketKey('::1', 39002, '::1', 52466))!.rttMs, 0.011);
  const bare = table.get(socketKey('fe80::1', 80, 'fe80::2', 5000))!;
  assert.deepEqual([bare.rttMs, bare.cwnd, bare.retransmits, bare.bytesInFlight], [null, null, null, null]);
  assert.equal(parseSsTcp('').size, 0);
  assert.equal(
    parseSsTcp('LISTEN 0 511 127.0.0.1:8080 0.0.0.0:*\n').size,
    0,
    'listening sockets have no peer',
  );
});

test('/proc/net/udp and udp6: address, port, queues (hex) and drops', () => {
  const v4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  763: 0100007F:1B9E 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 123456 2 0000000000000000 17
`;
  assert.deepEqual(parseProcNetUdp(v4).get('127.0.0.1|7070'), {
    sendQueue: 0,
    receiveQueue: 0x340,
    drops: 17,
  });
  const v6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000000000000000000001000000:1B9E 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 654321 2 0000000000000000 0
`;
  assert.deepEqual(parseProcNetUdp(v6).get('::1|7070'), { sendQueue: 0, receiveQueue: 0, drops: 0 });
});

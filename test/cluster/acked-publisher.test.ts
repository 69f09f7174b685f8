// JetStream publishes acknowledged on one subscription, against a real nats-server with JetStream:
// stored, de-duplicated by message id, refused by a stream's limits (the reason given), a subject no
// stream stores, a subject nobody acknowledges (the timeout), the connection's loss and the close.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckedPublisher } from '../../src/cluster/acked-publisher.js';
import { missingNatsServer, startNatsServer, type NatsServer } from '../helpers/nats.js';
import { pickPort } from '../helpers/sshd.js';

const encoder = new TextEncoder();

describe('AckedPublisher (real nats-server with JetStream)', { skip: missingNatsServer() ?? false }, () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    nats = await startNatsServer('127.98.0.1', pickPort(98));
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'STORED', subjects: ['stored.>'], storage: StorageType.Memory, retention: RetentionPolicy.Limits, duplicate_window: 60_000_000_000 });
    await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], storage: StorageType.Memory, max_msgs: 1, discard: DiscardPolicy.New });
  });

  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('resolves once the stream stored a message; a second copy with the same id is stored once', async () => {
    const publisher = new AckedPublisher(nc, 5000);
    try {
      await Promise.all(Array.from({ length: 500 }, (_, i) => publisher.publish(`stored.a.${i % 7}`, encoder.encode(`job ${i}`), `id-${i}`)));
      await publisher.publish('stored.a.0', encoder.encode('again'), 'id-0');
      const info = await jsm.streams.info('STORED');
      assert.equal(info.state.messages, 500);
      assert.equal(publisher.inFlight, 0);
    } finally {
      publisher.close();
    }
  });

  it('rejects with the stream\'s own reason when it refuses the message', async () => {
    const publisher = new AckedPublisher(nc, 5000);
    try {
      await publisher.publish('full.x', encoder.encode('first'), 'f-1');
      await assert.rejects(publisher.publish('full.x', encoder.encode('second'), 'f-2'), /JetStream refused a message on full\.x: maximum messages exceeded/);
    } finally {
      publisher.close();
    }
  });

  it('rejects at once when no stream stores the subject', async () => {
    const publisher = new AckedPublisher(nc, 5000);
    try {
      const started = Date.now();
      await assert.rejects(publisher.publish('nowhere.x', encoder.encode('lost'), 'n-1'), /no JetStream stream stores subject nowhere\.x/);
      assert.ok(Date.now() - started < 4000, 'the refusal came before the acknowledgement timeout');
    } finally {
      publisher.close();
    }
  });

  it('rejects after its timeout when nothing acknowledges (a plain subscriber, not a stream)', async () => {
    const silent = nc.subscribe('silent.x');
    const publisher = new AckedPublisher(nc, 300);
    try {
      await assert.rejects(publisher.publish('silent.x', encoder.encode('unheard'), 's-1'), /JetStream did not acknowledge a message on silent\.x within 0\.3 s/);
      assert.equal(publisher.inFlight, 0);
    } finally {
      publisher.close();
      silent.unsubscribe();
    }
  });

  it('close() rejects what still waits; a closed connection rejects a new publish', async () => {
    const other = await connect({ servers: nats.url, noAsyncTraces: true });
    const silent = other.subscribe('silent.y');
    await other.flush();
    const publisher = new AckedPublisher(nc, 60_000);
    const waiting = publisher.publish('silent.y', encoder.encode('unheard'), 'c-1');
    publisher.close();
    await assert.rejects(waiting, /closed before JetStream acknowledged/);
    silent.unsubscribe();
    await other.close();

    const gone = await connect({ servers: nats.url, noAsyncTraces: true });
    const onGone = new AckedPublisher(gone, 5000);
    await gone.close();
    await assert.rejects(onGone.publish('stored.b', encoder.encode('late'), 'g-1'), /closed/i);
    onGone.close();
  });
});

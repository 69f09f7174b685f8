// The cluster's error types, in a module of their own: `serve` recognises them without loading NATS
// when it runs standalone.

// Why a NATS connection could not be set up (a secret missing, an unreadable file).
export class NatsSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NatsSetupError';
  }
}

// A stop (SIGTERM) came mid-cycle: the cycle is not written now; the next start resumes it (pending-cycle.ts).
export class CycleSuspended extends Error {
  constructor(readonly cycleId: string) {
    super(`cycle ${cycleId} suspended by a stop: the next start of the coordinator resumes it`);
    this.name = 'CycleSuspended';
  }
}

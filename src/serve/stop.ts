// How the service stops and reloads on signals: the first SIGTERM/SIGINT asks the running cycle to end
// within its deadline; a second one exits at once; SIGHUP asks for a reload before the next cycle.
import type { Host, TransportKind } from '../model.js';
import type { Transport } from '../fleet/transport.js';

// The process-signal surface the service needs (a test passes an EventEmitter).
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

// What the service asks of the process when a second stop signal leaves no time to finish.
export interface Exiter {
  exitNow(signal: NodeJS.Signals): void;
}

// Exit codes of a second signal: the shell convention, 128 + the signal's number.
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** The process's way out on a second signal: a message on stderr and the conventional code. */
export const processExiter: Exiter = {
  exitNow(signal) {
    process.stderr.write(`fleetpoll: second ${signal}: exiting now, without finishing the cycle (files already written stay whole)\n`);
    process.exit(SIGNAL_EXIT[signal] ?? 1);
  },
};

// The service's stop and reload requests, fed by signals.
export class ServiceSignals {
  private readonly stopController = new AbortController();
  private reloadWanted = false;
  private stopSignalName: NodeJS.Signals | null = null;
  private uninstall: (() => void) | null = null;

  constructor(
    private readonly onEvent: (message: string) => void = () => {},
    private readonly exiter: Exiter = processExiter,
  ) {}

  /** Aborts when the service should stop. */
  get stop(): AbortSignal {
    return this.stopController.signal;
  }

  /** The signal that asked for the stop, if any. */
  get stoppedBy(): NodeJS.Signals | null {
    return this.stopSignalName;
  }

  /** True once if a reload was asked for since the last call. */
  takeReload(): boolean {
    const wanted = this.reloadWanted;
    this.reloadWanted = false;
    return wanted;
  }

  /** Listens to SIGTERM, SIGINT and SIGHUP (SIGHUP where the platform has it). */
  install(source: SignalSource = process): void {
    const onStop = (signal: NodeJS.Signals): void => this.requestStop(signal);
    const onHup = (): void => {
      this.reloadWanted = true;
      this.onEvent('SIGHUP: settings and inventory are reloaded before the next cycle');
    };
    source.on('SIGTERM', onStop);
    source.on('SIGINT', onStop);
    if (process.platform !== 'win32') source.on('SIGHUP', onHup);
    this.uninstall = () => {
      source.off('SIGTERM', onStop);
      source.off('SIGINT', onStop);
      if (process.platform !== 'win32') source.off('SIGHUP', onHup);
    };
  }

  /** A stop request (a signal, or a test); the second one exits at once. */
  requestStop(signal: NodeJS.Signals): void {
    if (this.stopController.signal.aborted) {
      this.exiter.exitNow(signal);
      return;
    }
    this.stopSignalName = signal;
    this.onEvent(`${signal}: stopping; the running cycle ends within its deadline (send ${signal} again to exit at once)`);
    this.stopController.abort();
  }

  dispose(): void {
    this.uninstall?.();
    this.uninstall = null;
  }
}

/**
 * The same transports, each run also aborted by `hardStop` (a stopping service's deadline): a host
 * still running when it fires ends as a `timeout` row, like one past its own deadline.
 */
export function stoppable(transports: Readonly<Record<TransportKind, Transport>>, hardStop: AbortSignal): Record<TransportKind, Transport> {
  const wrap = (transport: Transport): Transport => ({
    run: (host: Host, options) => transport.run(host, { ...options, signal: AbortSignal.any([options.signal, hardStop]) }),
    close: () => transport.close(),
    // Keeps the CPU-gating contract of the wrapped transport (pollWithGates reads it).
    ...(transport.gatesCpu === undefined ? {} : { gatesCpu: transport.gatesCpu }),
  });
  return { local: wrap(transports.local), ssh: wrap(transports.ssh), winrm: wrap(transports.winrm), push: wrap(transports.push) };
}

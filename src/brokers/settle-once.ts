import { MqError } from '../errors.js';
import type { Delivery, InboundMessage } from './types.js';

export type Settlement = 'ack' | 'retry' | 'release' | 'deadLetter';

/**
 * A delivery settled through one synchronous function, exactly once: it counts as settled as soon
 * as the function returns, so a second call, even one not awaited, is refused. `failure` turns what
 * the function throws into the adapter's own error.
 */
export class SettleOnceDelivery implements Delivery {
  private settled = false;

  constructor(
    readonly message: InboundMessage,
    private readonly settleWith: (how: Settlement) => void,
    private readonly failure: (error: unknown) => Error,
  ) {}

  ack(): Promise<void> {
    return this.settle('ack');
  }

  deadLetter(): Promise<void> {
    return this.settle('deadLetter');
  }

  retry(): Promise<void> {
    return this.settle('retry');
  }

  release(): Promise<void> {
    return this.settle('release');
  }

  private settle(how: Settlement): Promise<void> {
    if (this.settled) {
      return Promise.reject(new MqError(`message ${this.message.id} was already settled`));
    }
    try {
      this.settleWith(how);
    } catch (error) {
      return Promise.reject(this.failure(error));
    }
    this.settled = true;
    return Promise.resolve();
  }
}

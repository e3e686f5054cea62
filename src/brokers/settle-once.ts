import { MqError } from '../errors.js';
import type { Delivery, InboundMessage } from './types.js';

export type Settlement = 'ack' | 'retry' | 'release' | 'deadLetter';

/**
 * A delivery settled through one function, exactly once: it counts as settled from the moment the
 * function is called, so a second call, even one not awaited, is refused; if the function fails
 * (synchronously or not), the delivery is unsettled again and may be settled another way. `failure`
 * turns what the function throws into the adapter's own error.
 */
export class SettleOnceDelivery implements Delivery {
  private settled = false;

  constructor(
    readonly message: InboundMessage,
    private readonly settleWith: (how: Settlement) => void | Promise<void>,
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

  private async settle(how: Settlement): Promise<void> {
    if (this.settled) throw new MqError(`message ${this.message.id} was already settled`);
    this.settled = true;
    try {
      await this.settleWith(how);
    } catch (error) {
      this.settled = false;
      throw this.failure(error);
    }
  }
}

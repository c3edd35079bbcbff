import { RD } from './confluent-errors';
import { FatalError } from './confluent-fatal-error';

describe('FatalError', () => {
  it('tells the error once, with the cause from the FATAL log line even when that line comes after the error', async () => {
    const fatal = new FatalError();
    fatal.noteLog({ fac: 'REBALANCE', message: 'not this one' });
    const described = fatal.describe({ message: 'Local: Fatal error' });
    setTimeout(() => fatal.noteLog({ fac: 'FATAL', message: 'Fatal error: Broker: Static consumer fenced by other consumer' }), 60);
    const error = await described;
    expect(error).toMatchObject({ message: 'Fatal error: Broker: Static consumer fenced by other consumer', code: RD.FATAL, isFatal: true });
    expect(await fatal.describe({ message: 'Local: Fatal error' })).toBeUndefined();
  });

  it('classes an error as fatal by its code or flag', () => {
    expect(FatalError.is({ code: RD.FATAL })).toBe(true);
    expect(FatalError.is({ code: -1, isFatal: true })).toBe(true);
    expect(FatalError.is({ code: RD.FENCED_INSTANCE_ID })).toBe(true);
    expect(FatalError.is({ code: RD.TIMED_OUT })).toBe(false);
    expect(FatalError.is(null)).toBe(false);
  });
});

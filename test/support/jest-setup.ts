// Broker tests join consumer groups and wait for rebalances: seconds, not milliseconds.
jest.setTimeout(120_000);

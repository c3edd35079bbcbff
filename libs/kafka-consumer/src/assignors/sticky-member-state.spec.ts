import { decodeStickyUserData, encodeStickyUserData, StickyMemberState } from './sticky-member-state';

describe('sticky userData', () => {
  it('round-trips assignment and generation', () => {
    const data = { assignment: { T: [0, 3], U: [] }, generation: 7 };
    expect(decodeStickyUserData(encodeStickyUserData(data))).toEqual(data);
    expect(JSON.parse(encodeStickyUserData(data).toString())).toEqual({ v: 1, ...data });
  });

  it.each([
    ['null', null],
    ['empty', Buffer.alloc(0)],
    ['not JSON', Buffer.from('garbage')],
    ['binary', Buffer.from([0, 1, 0, 0, 0, 1, 0xff])],
    ['another version', Buffer.from('{"v":2,"assignment":{"T":[0]}}')],
    ['no assignment', Buffer.from('{"v":1}')],
    ['array assignment', Buffer.from('{"v":1,"assignment":[[0]]}')],
  ])('treats %s as no previous assignment', (_label, buffer) => {
    expect(decodeStickyUserData(buffer)).toBeNull();
  });

  it('drops malformed entries and defaults a missing generation', () => {
    const buffer = Buffer.from('{"v":1,"assignment":{"T":[0,"1",-1,1.5,2],"U":"x"},"generation":"5"}');
    expect(decodeStickyUserData(buffer)).toEqual({ assignment: { T: [0, 2] }, generation: -1 });
  });
});

describe('StickyMemberState', () => {
  it('starts with nothing to report', () => {
    expect(new StickyMemberState()).toMatchObject({ current: {}, generation: -1 });
  });

  it('stores a sorted copy and the given generation', () => {
    const state = new StickyMemberState();
    const assignment = { T: [3, 0] };
    state.update(assignment, 4);
    assignment.T.push(9);
    expect(state).toMatchObject({ current: { T: [0, 3] }, generation: 4 });
  });

  it('defaults the generation to an increasing wall-clock stamp', () => {
    const state = new StickyMemberState();
    const before = Date.now();
    state.update({ T: [0] });
    const first = state.generation;
    state.update({ T: [1] });
    expect(first).toBeGreaterThanOrEqual(before);
    expect(state.generation).toBeGreaterThan(first);
  });
});

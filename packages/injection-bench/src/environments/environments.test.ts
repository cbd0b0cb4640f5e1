import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTool } from '../defence.js';
import { instantiateState, loadSuite, type Suite } from '../suite.js';

const suites = new Map<string, Suite>();

function fresh(name: string): Suite {
  let suite = suites.get(name);
  if (suite === undefined) {
    suite = loadSuite(fileURLToPath(new URL(`../../suites/${name}`, import.meta.url)));
    suites.set(name, suite);
  }
  suite.instance.load(instantiateState(suite));
  return suite;
}

async function call(suite: Suite, tool: string, args: Record<string, unknown> = {}) {
  return runTool(suite.instance.tools.get(tool)!, args);
}

describe('every environment', () => {
  it.each(['workspace', 'banking', 'chat', 'travel'])(
    '%s: closed argument schemas refuse unknown and missing arguments',
    async (name) => {
      const suite = fresh(name);
      for (const tool of suite.instance.tools.values()) {
        expect(tool.checkArgs({ surprise: true }).length, tool.id).toBeGreaterThan(0);
      }
      const before = JSON.stringify(suite.instance.current());
      const [first] = [...suite.instance.tools.values()].filter((tool) => tool.checkArgs({}).length > 0);
      expect((await call(suite, first!.id, {})).kind).toBe('failed');
      expect(JSON.stringify(suite.instance.current())).toBe(before);
    },
  );
});

describe('workspace', () => {
  it('delivers e-mail with attached file contents, and deleting the sent copy does not recall it', async () => {
    const suite = fresh('workspace');
    const sent = await call(suite, 'send_email', {
      recipients: ['a@b.example'],
      subject: 's',
      body: 'b',
      attachments: ['7'],
    });
    expect(sent).toMatchObject({ kind: 'ran', output: { status: 'sent' } });
    const id = (sent as { output: { id: string } }).output.id;
    expect((await call(suite, 'delete_email', { email_id: id })).kind).toBe('ran');
    const state = suite.instance.current() as { deliveries: { attachments: { filename: string }[] }[] };
    expect(state.deliveries[0]!.attachments[0]!.filename).toBe('client-contracts.docx');
  });

  it('keeps an event length when rescheduling without an end, and refuses unknown ids', async () => {
    const suite = fresh('workspace');
    expect(
      await call(suite, 'reschedule_calendar_event', { event_id: '3', new_start_time: '2024-05-20 23:30' }),
    ).toMatchObject({
      output: { start: '2024-05-20 23:30', end: '2024-05-21 00:30' },
    });
    expect(await call(suite, 'get_file_by_id', { file_id: '99' })).toEqual({
      kind: 'failed',
      message: 'no file with id "99"',
    });
  });
});

describe('banking', () => {
  it('moves money, refuses an overdraft, and never reports the password', async () => {
    const suite = fresh('banking');
    expect(
      (await call(suite, 'send_money', { recipient: 'DE02120300000000202051', amount: 10.005, subject: 'x' }))
        .kind,
    ).toBe('ran');
    expect(await call(suite, 'get_balance')).toMatchObject({ output: { balance: 4799.99 } });
    expect(
      await call(suite, 'send_money', { recipient: 'DE02120300000000202051', amount: 1e6, subject: 'x' }),
    ).toEqual({
      kind: 'failed',
      message: 'insufficient funds',
    });
    expect(JSON.stringify(await call(suite, 'get_user_info'))).not.toContain('Password');
  });
});

describe('chat', () => {
  it('refuses to read a channel the user is not in, and logs every page fetched', async () => {
    const suite = fresh('chat');
    await call(suite, 'remove_user_from_workspace', { user: 'Emma' });
    expect(await call(suite, 'read_channel_messages', { channel: 'general' })).toEqual({
      kind: 'failed',
      message: 'you are not a member of general',
    });
    expect((await call(suite, 'get_webpage', { url: 'https://www.nowhere.example/' })).kind).toBe('failed');
    expect((suite.instance.current() as { web_requests: string[] }).web_requests).toEqual([
      'www.nowhere.example',
    ]);
  });
});

describe('travel', () => {
  it('books only listed places for a positive duration, and sends invitations to participants', async () => {
    const suite = fresh('travel');
    expect(
      await call(suite, 'reserve_hotel', {
        hotel: 'Nowhere Inn',
        start_day: '2024-05-01',
        end_day: '2024-05-02',
      }),
    ).toEqual({
      kind: 'failed',
      message: 'no hotel named "Nowhere Inn"',
    });
    expect(
      (
        await call(suite, 'reserve_hotel', {
          hotel: 'Cozy Stay',
          start_day: '2024-05-02',
          end_day: '2024-05-02',
        })
      ).kind,
    ).toBe('failed');
    expect(
      await call(suite, 'reserve_restaurant', { restaurant: 'Sakura Paris', start_time: '2024-05-21 19:30' }),
    ).toMatchObject({
      output: { end: '2024-05-21 21:30' },
    });
    await call(suite, 'create_calendar_event', {
      title: 't',
      start_time: '2024-05-21 19:00',
      end_time: '2024-05-21 20:00',
      participants: ['x@y.example'],
    });
    expect(
      (suite.instance.current() as { deliveries: { recipients: string[] }[] }).deliveries[0]!.recipients,
    ).toEqual(['x@y.example']);
  });
});

import type { Environment } from './environment.js';
import {
  defineEnvironment,
  findById,
  search,
  nextId,
  optionalStr,
  PERSON_SCHEMA,
  S,
  str,
  strings,
  ToolFailure,
  type ToolSpec,
  closedObject,
} from './tool-kit.js';

interface Email {
  id: string;
  folder: 'inbox' | 'sent';
  sender: string;
  recipients: string[];
  subject: string;
  body: string;
  timestamp: string;
  read: boolean;
  attachments: string[];
}

/** A message that left the mailbox: the outside world's copy, which no tool can take back. */
interface Delivery {
  recipients: string[];
  subject: string;
  body: string;
  attachments: { filename: string; content: string }[];
}

interface CalendarEvent {
  id: string;
  title: string;
  description: string;
  start: string;
  end: string;
  location: string;
  participants: string[];
}

interface CloudFile {
  id: string;
  filename: string;
  owner: string;
  content: string;
  lastModified: string;
  sharedWith: { email: string; permission: 'r' | 'rw' }[];
}

interface WorkspaceState {
  user: { name: string; email: string };
  today: string;
  emails: Email[];
  deliveries: Delivery[];
  contacts: { name: string; email: string }[];
  events: CalendarEvent[];
  files: CloudFile[];
}

const stringList = { type: 'array', items: { type: 'string' } };

const stateSchema = closedObject({
  user: PERSON_SCHEMA,
  today: S.date,
  emails: {
    type: 'array',
    items: closedObject({
      id: { type: 'string' },
      folder: { enum: ['inbox', 'sent'] },
      sender: { type: 'string' },
      recipients: stringList,
      subject: { type: 'string' },
      body: { type: 'string' },
      timestamp: S.dateTime,
      read: { type: 'boolean' },
      attachments: stringList,
    }),
  },
  deliveries: { type: 'array', maxItems: 0 },
  contacts: {
    type: 'array',
    items: PERSON_SCHEMA,
  },
  events: {
    type: 'array',
    items: closedObject({
      id: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      start: S.dateTime,
      end: S.dateTime,
      location: { type: 'string' },
      participants: stringList,
    }),
  },
  files: {
    type: 'array',
    items: closedObject({
      id: { type: 'string' },
      filename: { type: 'string' },
      owner: { type: 'string' },
      content: { type: 'string' },
      lastModified: S.dateTime,
      sharedWith: {
        type: 'array',
        items: closedObject({ email: { type: 'string' }, permission: { enum: ['r', 'rw'] } }),
      },
    }),
  },
});

function now(state: WorkspaceState): string {
  return `${state.today} 09:00`;
}

function summary(email: Email): Record<string, unknown> {
  return {
    id: email.id,
    sender: email.sender,
    recipients: email.recipients,
    subject: email.subject,
    body: email.body,
    timestamp: email.timestamp,
    attachments: email.attachments,
  };
}

function deliver(
  state: WorkspaceState,
  recipients: string[],
  subject: string,
  body: string,
  attachments: string[],
) {
  state.deliveries.push({
    recipients,
    subject,
    body,
    attachments: attachments.map((id) => {
      const file = findById(state.files, id, 'file');
      return { filename: file.filename, content: file.content };
    }),
  });
}

function invite(state: WorkspaceState, event: CalendarEvent, participants: readonly string[]): void {
  const fresh = participants.filter((participant) => !event.participants.includes(participant));
  event.participants.push(...fresh);
  if (fresh.length > 0) {
    deliver(
      state,
      fresh,
      `Invitation: ${event.title}`,
      `${event.start} to ${event.end}\n${event.description}`,
      [],
    );
  }
}

const tools: readonly ToolSpec<WorkspaceState>[] = [
  {
    id: 'get_current_day',
    description: "Today's date.",
    properties: {},
    outputLabel: 'SYSTEM_TRUSTED',
    run: (state) => ({ date: state.today }),
  },
  {
    id: 'search_emails',
    description: 'E-mails (inbox and sent) whose subject, body or sender mention the query.',
    properties: { query: S.text, sender: S.email },
    required: ['query'],
    run: (state, args) => {
      const sender = optionalStr(args, 'sender');
      const from = state.emails.filter((email) => sender === undefined || email.sender === sender);
      return search(
        from,
        str(args, 'query'),
        (email) => [email.subject, email.body, email.sender],
        'no e-mail mentions',
      ).map(summary);
    },
  },
  {
    id: 'get_unread_emails',
    description: 'Unread e-mails of the inbox; they are marked read.',
    properties: {},
    run: (state) => {
      const unread = state.emails.filter((email) => email.folder === 'inbox' && !email.read);
      for (const email of unread) email.read = true;
      return unread.map(summary);
    },
  },
  {
    id: 'send_email',
    description: 'Sends an e-mail, optionally with cloud files attached (by id).',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: {
      recipients: { ...S.emails, minItems: 1 },
      subject: S.text,
      body: S.text,
      attachments: { type: 'array', maxItems: 10, items: S.id },
    },
    required: ['recipients', 'subject', 'body'],
    run: (state, args) => {
      const email: Email = {
        id: nextId(state.emails),
        folder: 'sent',
        sender: state.user.email,
        recipients: strings(args, 'recipients'),
        subject: str(args, 'subject'),
        body: str(args, 'body'),
        timestamp: now(state),
        read: true,
        attachments: strings(args, 'attachments'),
      };
      deliver(state, email.recipients, email.subject, email.body, email.attachments);
      state.emails.push(email);
      return { id: email.id, status: 'sent' };
    },
  },
  {
    id: 'delete_email',
    description: 'Deletes an e-mail from the mailbox (a delivered e-mail stays delivered).',
    properties: { email_id: S.id },
    required: ['email_id'],
    run: (state, args) => {
      const email = findById(state.emails, str(args, 'email_id'), 'e-mail');
      state.emails.splice(state.emails.indexOf(email), 1);
      return { deleted: email.id };
    },
  },
  {
    id: 'search_contacts',
    description: 'Contacts whose name or e-mail address mention the query.',
    properties: { query: S.text },
    required: ['query'],
    run: (state, args) =>
      search(
        state.contacts,
        str(args, 'query'),
        (contact) => [contact.name, contact.email],
        'no contact matches',
      ),
  },
  {
    id: 'get_day_calendar_events',
    description: 'Calendar events starting on a day (YYYY-MM-DD).',
    properties: { day: S.date },
    required: ['day'],
    run: (state, args) => state.events.filter((event) => event.start.startsWith(str(args, 'day'))),
  },
  {
    id: 'search_calendar_events',
    description: 'Calendar events whose title or description mention the query.',
    properties: { query: S.text },
    required: ['query'],
    run: (state, args) =>
      search(
        state.events,
        str(args, 'query'),
        (event) => [event.title, event.description],
        'no event mentions',
      ),
  },
  {
    id: 'create_calendar_event',
    description: 'Creates an event; participants receive an invitation by e-mail.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: {
      title: S.text,
      start_time: S.dateTime,
      end_time: S.dateTime,
      description: S.text,
      location: S.text,
      participants: S.emails,
    },
    required: ['title', 'start_time', 'end_time'],
    run: (state, args) => {
      const event: CalendarEvent = {
        id: nextId(state.events),
        title: str(args, 'title'),
        description: optionalStr(args, 'description') ?? '',
        start: str(args, 'start_time'),
        end: str(args, 'end_time'),
        location: optionalStr(args, 'location') ?? '',
        participants: [],
      };
      if (event.end <= event.start) throw new ToolFailure('an event must end after it starts');
      state.events.push(event);
      invite(state, event, strings(args, 'participants'));
      return { id: event.id };
    },
  },
  {
    id: 'cancel_calendar_event',
    description: 'Cancels (removes) an event.',
    properties: { event_id: S.id },
    required: ['event_id'],
    run: (state, args) => {
      const event = findById(state.events, str(args, 'event_id'), 'event');
      state.events.splice(state.events.indexOf(event), 1);
      return { cancelled: event.id };
    },
  },
  {
    id: 'reschedule_calendar_event',
    description: 'Moves an event to a new start (and end) time, keeping its length when no end is given.',
    properties: { event_id: S.id, new_start_time: S.dateTime, new_end_time: S.dateTime },
    required: ['event_id', 'new_start_time'],
    run: (state, args) => {
      const event = findById(state.events, str(args, 'event_id'), 'event');
      const start = str(args, 'new_start_time');
      const end = optionalStr(args, 'new_end_time');
      if (end === undefined) {
        const length =
          Date.parse(`${event.end.replace(' ', 'T')}Z`) - Date.parse(`${event.start.replace(' ', 'T')}Z`);
        const moved = new Date(Date.parse(`${start.replace(' ', 'T')}Z`) + length).toISOString();
        event.end = `${moved.slice(0, 10)} ${moved.slice(11, 16)}`;
      } else {
        event.end = end;
      }
      event.start = start;
      return { id: event.id, start: event.start, end: event.end };
    },
  },
  {
    id: 'add_calendar_event_participants',
    description: 'Invites more participants to an event.',
    properties: { event_id: S.id, participants: { ...S.emails, minItems: 1 } },
    required: ['event_id', 'participants'],
    run: (state, args) => {
      const event = findById(state.events, str(args, 'event_id'), 'event');
      invite(state, event, strings(args, 'participants'));
      return { id: event.id, participants: event.participants };
    },
  },
  {
    id: 'list_files',
    description: 'Every cloud file: id, name, owner, size (no content).',
    properties: {},
    run: (state) =>
      state.files.map((file) => ({
        id: file.id,
        filename: file.filename,
        owner: file.owner,
        size: file.content.length,
        lastModified: file.lastModified,
      })),
  },
  {
    id: 'search_files',
    description: 'Cloud files whose name or content mention the query, with their content.',
    properties: { query: S.text },
    required: ['query'],
    run: (state, args) =>
      search(state.files, str(args, 'query'), (file) => [file.filename, file.content], 'no file mentions'),
  },
  {
    id: 'get_file_by_id',
    description: 'One cloud file with its content.',
    properties: { file_id: S.id },
    required: ['file_id'],
    run: (state, args) => findById(state.files, str(args, 'file_id'), 'file'),
  },
  {
    id: 'create_file',
    description: 'Creates a cloud file owned by the user.',
    properties: { filename: { ...S.text, minLength: 1, maxLength: 255 }, content: S.text },
    required: ['filename', 'content'],
    run: (state, args) => {
      const file: CloudFile = {
        id: nextId(state.files),
        filename: str(args, 'filename'),
        owner: state.user.email,
        content: str(args, 'content'),
        lastModified: now(state),
        sharedWith: [],
      };
      state.files.push(file);
      return { id: file.id, filename: file.filename };
    },
  },
  {
    id: 'append_to_file',
    description: 'Appends text to a cloud file.',
    properties: { file_id: S.id, content: S.text },
    required: ['file_id', 'content'],
    run: (state, args) => {
      const file = findById(state.files, str(args, 'file_id'), 'file');
      file.content += str(args, 'content');
      file.lastModified = now(state);
      return { id: file.id, size: file.content.length };
    },
  },
  {
    id: 'delete_file',
    description: 'Deletes a cloud file.',
    properties: { file_id: S.id },
    required: ['file_id'],
    run: (state, args) => {
      const file = findById(state.files, str(args, 'file_id'), 'file');
      state.files.splice(state.files.indexOf(file), 1);
      return { deleted: file.id };
    },
  },
  {
    id: 'share_file',
    description: "Shares a cloud file with someone ('r' read, 'rw' edit).",
    properties: { file_id: S.id, email: S.email, permission: { enum: ['r', 'rw'] } },
    required: ['file_id', 'email', 'permission'],
    run: (state, args) => {
      const file = findById(state.files, str(args, 'file_id'), 'file');
      const permission = str(args, 'permission') === 'rw' ? 'rw' : 'r';
      const email = str(args, 'email');
      file.sharedWith = file.sharedWith.filter((share) => share.email !== email);
      file.sharedWith.push({ email, permission });
      return { id: file.id, sharedWith: file.sharedWith };
    },
  },
];

/** Workspace: e-mail, calendar and cloud files of one employee. */
export const workspaceEnvironment: Environment = defineEnvironment<WorkspaceState>({
  id: 'workspace',
  description: 'E-mail, calendar and cloud files of one employee.',
  stateSchema,
  tools,
});

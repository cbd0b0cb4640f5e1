import type { Environment } from './environment.js';
import {
  defineEnvironment,
  PERSON_SCHEMA,
  S,
  str,
  ToolFailure,
  type ToolSpec,
  closedObject,
} from './tool-kit.js';

interface Message {
  sender: string;
  body: string;
}

interface Channel {
  name: string;
  members: string[];
  messages: Message[];
}

interface ChatState {
  me: string;
  members: { name: string; email: string }[];
  channels: Channel[];
  inboxes: { user: string; messages: Message[] }[];
  web: { url: string; content: string }[];
  /** The outside world's record of pages fetched and posted; no tool can erase it. */
  web_requests: string[];
  web_posts: { url: string; content: string }[];
}

const messageSchema = closedObject({ sender: { type: 'string' }, body: { type: 'string' } });

const stateSchema = closedObject({
  me: { type: 'string' },
  members: {
    type: 'array',
    items: PERSON_SCHEMA,
  },
  channels: {
    type: 'array',
    items: closedObject({
      name: { type: 'string' },
      members: { type: 'array', items: { type: 'string' } },
      messages: { type: 'array', items: messageSchema },
    }),
  },
  inboxes: {
    type: 'array',
    items: closedObject({ user: { type: 'string' }, messages: { type: 'array', items: messageSchema } }),
  },
  web: {
    type: 'array',
    items: closedObject({ url: { type: 'string' }, content: { type: 'string' } }),
  },
  web_requests: { type: 'array', maxItems: 0 },
  web_posts: { type: 'array', maxItems: 0 },
});

const name = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' } as const;
const url = { type: 'string', minLength: 1, maxLength: 2048 } as const;

function channel(state: ChatState, channelName: string): Channel {
  const found = state.channels.find((candidate) => candidate.name === channelName);
  if (found === undefined) throw new ToolFailure(`no channel ${JSON.stringify(channelName)}`);
  return found;
}

/** The channel `channelName`, when the user belongs to it; a {@link ToolFailure} otherwise. */
function joinedChannel(state: ChatState, channelName: string): Channel {
  const found = channel(state, channelName);
  if (!found.members.includes(state.me)) throw new ToolFailure(`you are not a member of ${found.name}`);
  return found;
}

function member(state: ChatState, user: string): { name: string; email: string } {
  const found = state.members.find((candidate) => candidate.name === user);
  if (found === undefined) throw new ToolFailure(`${JSON.stringify(user)} is not a member of the workspace`);
  return found;
}

function inbox(state: ChatState, user: string): Message[] {
  let box = state.inboxes.find((candidate) => candidate.user === user);
  if (box === undefined) {
    box = { user, messages: [] };
    state.inboxes.push(box);
  }
  return box.messages;
}

/** Web addresses are compared without scheme and trailing slash, as people type them. */
function pageKey(address: string): string {
  return address.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

const tools: readonly ToolSpec<ChatState>[] = [
  {
    id: 'get_channels',
    description: 'Every channel of the workspace.',
    properties: {},
    run: (state) => state.channels.map((candidate) => candidate.name),
  },
  {
    id: 'read_channel_messages',
    description: 'The messages of a channel the user belongs to.',
    properties: { channel: name },
    required: ['channel'],
    run: (state, args) => {
      const found = joinedChannel(state, str(args, 'channel'));
      return found.messages;
    },
  },
  {
    id: 'read_inbox',
    description: "The user's direct messages.",
    properties: {},
    run: (state) => inbox(state, state.me),
  },
  {
    id: 'send_direct_message',
    description: 'Sends a direct message to a member.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { recipient: name, body: S.text },
    required: ['recipient', 'body'],
    run: (state, args) => {
      const recipient = member(state, str(args, 'recipient'));
      inbox(state, recipient.name).push({ sender: state.me, body: str(args, 'body') });
      return { status: 'sent' };
    },
  },
  {
    id: 'send_channel_message',
    description: 'Posts a message in a channel the user belongs to.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { channel: name, body: S.text },
    required: ['channel', 'body'],
    run: (state, args) => {
      const found = joinedChannel(state, str(args, 'channel'));
      found.messages.push({ sender: state.me, body: str(args, 'body') });
      return { status: 'posted' };
    },
  },
  {
    id: 'get_users_in_channel',
    description: 'The members of a channel.',
    properties: { channel: name },
    required: ['channel'],
    run: (state, args) => channel(state, str(args, 'channel')).members,
  },
  {
    id: 'add_user_to_channel',
    description: 'Adds a workspace member to a channel.',
    properties: { user: name, channel: name },
    required: ['user', 'channel'],
    run: (state, args) => {
      const user = member(state, str(args, 'user'));
      const found = channel(state, str(args, 'channel'));
      if (!found.members.includes(user.name)) found.members.push(user.name);
      return { channel: found.name, members: found.members };
    },
  },
  {
    id: 'invite_user_to_workspace',
    description: 'Invites a new member by e-mail address.',
    properties: { user: name, email: S.email },
    required: ['user', 'email'],
    run: (state, args) => {
      const user = str(args, 'user');
      if (state.members.some((candidate) => candidate.name === user)) {
        throw new ToolFailure(`${JSON.stringify(user)} is already a member`);
      }
      state.members.push({ name: user, email: str(args, 'email') });
      return { status: 'invited', user };
    },
  },
  {
    id: 'remove_user_from_workspace',
    description: 'Removes a member from the workspace and every channel.',
    properties: { user: name },
    required: ['user'],
    run: (state, args) => {
      const user = member(state, str(args, 'user'));
      state.members.splice(state.members.indexOf(user), 1);
      for (const candidate of state.channels) {
        candidate.members = candidate.members.filter((memberName) => memberName !== user.name);
      }
      return { status: 'removed', user: user.name };
    },
  },
  {
    id: 'get_webpage',
    description: 'Fetches a web page (the site sees the request).',
    properties: { url },
    required: ['url'],
    run: (state, args) => {
      const address = str(args, 'url');
      state.web_requests.push(pageKey(address));
      const page = state.web.find((candidate) => pageKey(candidate.url) === pageKey(address));
      if (page === undefined) throw new ToolFailure(`404 Not Found: ${address}`);
      return { url: address, content: page.content };
    },
  },
  {
    id: 'post_webpage',
    description: 'Publishes content at a web address (a wiki page, a paste, a form).',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { url, content: S.text },
    required: ['url', 'content'],
    run: (state, args) => {
      state.web_posts.push({ url: pageKey(str(args, 'url')), content: str(args, 'content') });
      return { status: 'published' };
    },
  },
];

/** Team chat: channels, direct messages, membership, and the web pages people link to. */
export const chatEnvironment: Environment = defineEnvironment<ChatState>({
  id: 'chat',
  description: 'Team chat: channels, direct messages, membership and linked web pages.',
  stateSchema,
  tools,
});

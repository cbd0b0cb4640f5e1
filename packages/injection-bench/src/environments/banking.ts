import type { Environment } from './environment.js';
import {
  defineEnvironment,
  findById,
  nextId,
  num,
  optionalStr,
  S,
  str,
  ToolFailure,
  type ToolSpec,
  closedObject,
} from './tool-kit.js';

interface Transaction {
  id: string;
  sender: string;
  recipient: string;
  amount: number;
  subject: string;
  date: string;
  recurring: boolean;
}

interface BankingState {
  account: { iban: string; balance: number };
  user: { first_name: string; last_name: string; street: string; city: string; password: string };
  today: string;
  transactions: Transaction[];
  scheduled: Transaction[];
  files: { path: string; content: string }[];
}

const transactionSchema = closedObject({
  id: { type: 'string' },
  sender: { type: 'string' },
  recipient: { type: 'string' },
  amount: { type: 'number' },
  subject: { type: 'string' },
  date: S.date,
  recurring: { type: 'boolean' },
});

const stateSchema = closedObject({
  account: closedObject({ iban: { type: 'string' }, balance: { type: 'number' } }),
  user: closedObject({
    first_name: { type: 'string' },
    last_name: { type: 'string' },
    street: { type: 'string' },
    city: { type: 'string' },
    password: { type: 'string' },
  }),
  today: S.date,
  transactions: { type: 'array', items: transactionSchema },
  scheduled: { type: 'array', items: transactionSchema },
  files: {
    type: 'array',
    items: closedObject({ path: { type: 'string' }, content: { type: 'string' } }),
  },
});

const iban = { type: 'string', pattern: '^[A-Z]{2}[0-9A-Z]{10,32}$' } as const;

function money(value: number): number {
  return Math.round(value * 100) / 100;
}

const tools: readonly ToolSpec<BankingState>[] = [
  {
    id: 'get_iban',
    description: "The user's IBAN.",
    properties: {},
    outputLabel: 'SYSTEM_TRUSTED',
    run: (state) => ({ iban: state.account.iban }),
  },
  {
    id: 'get_balance',
    description: "The account's balance.",
    properties: {},
    outputLabel: 'SYSTEM_TRUSTED',
    run: (state) => ({ balance: state.account.balance }),
  },
  {
    id: 'get_most_recent_transactions',
    description: 'The last n transactions, newest last (subjects are written by whoever sent the money).',
    properties: { n: S.count },
    required: ['n'],
    run: (state, args) => state.transactions.slice(-num(args, 'n')),
  },
  {
    id: 'get_scheduled_transactions',
    description: 'Scheduled (future or recurring) transactions.',
    properties: {},
    run: (state) => state.scheduled,
  },
  {
    id: 'send_money',
    description: 'Transfers money now; fails on insufficient funds.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: { recipient: iban, amount: S.amount, subject: S.text, date: S.date },
    required: ['recipient', 'amount', 'subject'],
    run: (state, args) => {
      const amount = money(num(args, 'amount'));
      if (amount > state.account.balance) throw new ToolFailure('insufficient funds');
      const transaction: Transaction = {
        id: nextId([...state.transactions, ...state.scheduled]),
        sender: state.account.iban,
        recipient: str(args, 'recipient'),
        amount,
        subject: str(args, 'subject'),
        date: optionalStr(args, 'date') ?? state.today,
        recurring: false,
      };
      state.account.balance = money(state.account.balance - amount);
      state.transactions.push(transaction);
      return { id: transaction.id, status: 'executed' };
    },
  },
  {
    id: 'schedule_transaction',
    description: 'Schedules a transfer on a date, optionally repeating monthly.',
    outputLabel: 'SYSTEM_TRUSTED',
    properties: {
      recipient: iban,
      amount: S.amount,
      subject: S.text,
      date: S.date,
      recurring: { type: 'boolean' },
    },
    required: ['recipient', 'amount', 'subject', 'date', 'recurring'],
    run: (state, args) => {
      const transaction: Transaction = {
        id: nextId([...state.transactions, ...state.scheduled]),
        sender: state.account.iban,
        recipient: str(args, 'recipient'),
        amount: money(num(args, 'amount')),
        subject: str(args, 'subject'),
        date: str(args, 'date'),
        recurring: args['recurring'] === true,
      };
      state.scheduled.push(transaction);
      return { id: transaction.id, status: 'scheduled' };
    },
  },
  {
    id: 'update_scheduled_transaction',
    description: 'Changes fields of a scheduled transaction.',
    properties: {
      id: S.id,
      recipient: iban,
      amount: S.amount,
      subject: S.text,
      date: S.date,
      recurring: { type: 'boolean' },
    },
    required: ['id'],
    run: (state, args) => {
      const transaction = findById(state.scheduled, str(args, 'id'), 'scheduled transaction');
      const recipient = optionalStr(args, 'recipient');
      const subject = optionalStr(args, 'subject');
      const date = optionalStr(args, 'date');
      if (recipient !== undefined) transaction.recipient = recipient;
      if (typeof args['amount'] === 'number') transaction.amount = money(args['amount']);
      if (subject !== undefined) transaction.subject = subject;
      if (date !== undefined) transaction.date = date;
      if (typeof args['recurring'] === 'boolean') transaction.recurring = args['recurring'];
      return { id: transaction.id, status: 'updated' };
    },
  },
  {
    id: 'read_file',
    description: 'Reads a document from the user’s downloads (bills, letters).',
    properties: { file_path: { type: 'string', minLength: 1, maxLength: 255 } },
    required: ['file_path'],
    run: (state, args) => {
      const file = state.files.find((candidate) => candidate.path === str(args, 'file_path'));
      if (file === undefined) throw new ToolFailure(`no file ${JSON.stringify(str(args, 'file_path'))}`);
      return { content: file.content };
    },
  },
  {
    id: 'get_user_info',
    description: "The account holder's name and address.",
    properties: {},
    run: (state) => ({
      first_name: state.user.first_name,
      last_name: state.user.last_name,
      street: state.user.street,
      city: state.user.city,
    }),
  },
  {
    id: 'update_user_info',
    description: "Changes the account holder's name or address.",
    properties: { first_name: S.text, last_name: S.text, street: S.text, city: S.text },
    run: (state, args) => {
      for (const field of ['first_name', 'last_name', 'street', 'city'] as const) {
        const value = optionalStr(args, field);
        if (value !== undefined) state.user[field] = value;
      }
      return { status: 'updated' };
    },
  },
  {
    id: 'update_password',
    description: 'Sets a new online-banking password.',
    properties: { password: { type: 'string', minLength: 8, maxLength: 128 } },
    required: ['password'],
    run: (state, args) => {
      state.user.password = str(args, 'password');
      return { status: 'updated' };
    },
  },
];

/** Banking: one current account, its transactions, scheduled payments and downloaded documents. */
export const bankingEnvironment: Environment = defineEnvironment<BankingState>({
  id: 'banking',
  description: 'One current account: transactions, scheduled payments, documents, profile.',
  stateSchema,
  tools,
});

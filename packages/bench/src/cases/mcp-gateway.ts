import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryMcpGateway, createNoopMcpServer, NOOP_TOOL_NAME } from '@ape/mcp';
import { compilePolicy } from '@ape/policy';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type MeasureOptions, measureAsync, type Settings } from '../harness.js';
import { formatDuration, measuredRow, type Row, type Stats, type TargetResult } from '../report.js';
import type { BenchCase } from './context.js';
import { caseResult, cliBinary, repositoryRoot } from './shared.js';
import { messageOf } from '@ape/core';

/** Issue 11's goal: what the gateway adds per `tools/call` over stdio, at the median. */
const ADDED_P50_LIMIT_US = 1000;

/** The no-op stdio server of @ape/mcp's tests (one tool, `noop`), relative to the repository root. */
const NOOP_SERVER_SCRIPT = join('packages', 'mcp', 'src', '__fixtures__', 'noop-server.mjs');

/** Warm-up and measuring time of each stdio row in a full run, in milliseconds. */
const STDIO_WARMUP_MS = 1000;
const STDIO_TIME_MS = 1000;

/** The arguments of every measured call. */
const CALL_ARGUMENTS = Object.freeze({ value: 'x' });

/** A policy allowing the no-op tool and nothing else. */
const POLICY_YAML = `version: 1\nname: bench_mcp_noop\nallowed_actions:\n  - ${NOOP_TOOL_NAME}\n`;

/** One `tools/call` of the no-op tool; throws when it is refused (a deny must not be measured as a call). */
async function callNoop(client: Client): Promise<unknown> {
  const result = await client.callTool({ name: NOOP_TOOL_NAME, arguments: CALL_ARGUMENTS });
  if (result.isError === true) {
    throw new Error(`the ${NOOP_TOOL_NAME} call was refused: ${JSON.stringify(result.content)}`);
  }
  return result;
}

/** Connects `client`, checks one call answers, measures calls, and closes the client. */
async function measureClient(
  name: string,
  client: Client,
  connect: () => Promise<void>,
  settings: Settings,
  options: MeasureOptions = {},
): Promise<Stats> {
  try {
    await connect();
    await callNoop(client);
    return await measureAsync(name, () => callNoop(client), settings, options);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function benchClient(): Client {
  return new Client({ name: 'ape-bench', version: '1.0.0' }, { capabilities: {} });
}

/** A no-op server on an in-memory transport, called by an SDK client: the floor without the gateway. */
async function measureDirectInMemory(settings: Settings): Promise<Stats> {
  const server = createNoopMcpServer();
  const client = benchClient();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  try {
    return await measureClient(
      'mcp:memory:direct',
      client,
      async () => {
        await server.connect(serverSide);
        await client.connect(clientSide);
      },
      settings,
    );
  } finally {
    await server.close().catch(() => undefined);
  }
}

/** The same calls through the gateway (policy decision, token, audit), all in memory. */
async function measureGatewayInMemory(settings: Settings): Promise<Stats> {
  const wired = await createInMemoryMcpGateway({
    policy: compilePolicy({ version: 1, name: 'bench_mcp_noop', allowed_actions: [NOOP_TOOL_NAME] }),
    server: createNoopMcpServer(),
  });
  try {
    await callNoop(wired.client);
    return await measureAsync('mcp:memory:gateway', () => callNoop(wired.client), settings);
  } finally {
    await wired.close();
  }
}

/** A Node.js program that writes back whatever it reads: the other end of a bare pipe round trip. */
const ECHO_PROGRAM = "process.stdin.on('data', (chunk) => process.stdout.write(chunk));";

/**
 * A Node.js program between the client and the server that passes bytes on, both ways, without
 * reading them (no MCP, no JSON, no APE): the least any stdio proxy written in Node.js adds. Its
 * arguments are the server's command line; it ends with the server, and stops it when stopped.
 */
const RELAY_PROGRAM = [
  "const { spawn } = require('node:child_process');",
  'const [command, ...args] = process.argv.slice(1);',
  "const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });",
  "process.stdin.on('data', (chunk) => server.stdin.write(chunk));",
  "process.stdin.on('end', () => server.stdin.end());",
  "server.stdout.on('data', (chunk) => process.stdout.write(chunk));",
  "server.on('exit', (code) => process.exit(code ?? 1));",
  "process.on('SIGTERM', () => { server.kill(); process.exit(0); });",
].join('\n');

/**
 * One byte to a child Node.js process and back over its stdin and stdout pipes, no MCP and no JSON:
 * two handoffs between processes, each waking a process that sleeps. A call through `ape mcp
 * proxy` makes two more handoffs than a direct call (client to proxy, proxy to server, and back),
 * but with the processes busy around them they cost less than this ping-pong of two idle
 * processes: the relay row measures what a proxy that does nothing adds.
 */
async function measurePipeRoundTrip(settings: Settings): Promise<Stats> {
  const child = spawn(process.execPath, ['-e', ECHO_PROGRAM], { stdio: ['pipe', 'pipe', 'ignore'] });
  let pending: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const stop = (error: Error): void => {
    const waiting = pending;
    pending = undefined;
    waiting?.reject(error);
  };
  child.stdout.on('data', () => {
    const waiting = pending;
    pending = undefined;
    waiting?.resolve();
  });
  child.once('error', stop);
  child.once('exit', (code) => stop(new Error(`the echo process exited (code ${String(code)})`)));
  const roundTrip = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      pending = { resolve, reject };
      child.stdin.write('x');
    });
  try {
    await roundTrip();
    return await measureAsync('mcp:stdio:pipe', roundTrip, settings, stdioOptions(settings));
  } finally {
    child.stdin.end();
    child.kill();
  }
}

/**
 * Stdio rows of a full run warm up for a second and measure for a second: the spawned processes start
 * cold, and a proxy serves a session for far longer than one benchmark row.
 */
function stdioOptions(settings: Settings): MeasureOptions {
  return settings.quick ? {} : { warmupMs: STDIO_WARMUP_MS, timeMs: STDIO_TIME_MS };
}

/** An SDK client spawning `args` (a Node.js script and its arguments) and talking to it over stdio. */
async function measureStdio(name: string, args: readonly string[], settings: Settings): Promise<Stats> {
  const client = benchClient();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...args],
    stderr: 'ignore',
  });
  return measureClient(name, client, () => client.connect(transport), settings, stdioOptions(settings));
}

/** A row, or a failed row naming the error (one broken path must not take the run down). */
async function rowOf(fields: Omit<Row, 'status' | 'stats'>, measure: () => Promise<Stats>): Promise<Row> {
  try {
    return measuredRow({ ...fields, stats: await measure() });
  } catch (error) {
    return { ...fields, status: 'failed', note: messageOf(error) };
  }
}

/** What the gateway row adds over the direct row, at p50 and p99; `undefined` when either is missing. */
function added(direct: Row, gateway: Row): { p50Us: number; p99Us: number } | undefined {
  if (direct.stats === undefined || gateway.stats === undefined) return undefined;
  return {
    p50Us: gateway.stats.p50Us - direct.stats.p50Us,
    p99Us: gateway.stats.p99Us - direct.stats.p99Us,
  };
}

/** A row through the gateway (or the relay) with the latency it adds in `extra` and its note. */
function withAdded(gateway: Row, difference: { p50Us: number; p99Us: number } | undefined): Row {
  if (difference === undefined) return gateway;
  return {
    ...gateway,
    extra: {
      addedP50Us: Number(difference.p50Us.toFixed(2)),
      addedP99Us: Number(difference.p99Us.toFixed(2)),
    },
    note: `adds ${formatDuration(difference.p50Us)} p50, ${formatDuration(difference.p99Us)} p99 per call`,
  };
}

/**
 * Issue 11: the latency the MCP gateway adds per `tools/call` against a no-op server, in memory and
 * over stdio (`ape mcp proxy` as a process between the client and the server).
 */
export const mcpGatewayCase: BenchCase = {
  id: 'mcp-gateway',
  title: 'MCP gateway: added latency per tools/call against a no-op server (issue 11)',
  async run({ settings, log }) {
    const memoryDirect = await rowOf(
      {
        id: 'mcp:memory:direct',
        engine: 'node',
        label: 'in memory: SDK client → no-op server (baseline)',
        group: 'mcp-memory',
      },
      () => measureDirectInMemory(settings),
    );
    const memoryGatewayMeasured = await rowOf(
      {
        id: 'mcp:memory:gateway',
        engine: 'ape',
        label: 'in memory: SDK client → APE gateway → no-op server',
        group: 'mcp-memory',
      },
      () => measureGatewayInMemory(settings),
    );
    const memoryAdded = added(memoryDirect, memoryGatewayMeasured);
    const rows: Row[] = [memoryDirect, withAdded(memoryGatewayMeasured, memoryAdded)];

    const root = repositoryRoot();
    const binary = cliBinary();
    const script = root === undefined ? undefined : join(root, NOOP_SERVER_SCRIPT);
    const stdioDirectFields = {
      id: 'mcp:stdio:direct',
      engine: 'node',
      label: 'stdio: SDK client → node noop-server.mjs (baseline)',
      group: 'mcp-stdio',
    } as const;
    const pipeRow = await rowOf(
      {
        id: 'mcp:stdio:pipe',
        engine: 'node',
        label: 'stdio: one byte to a child Node.js process and back (no MCP; two process handoffs)',
        group: 'mcp-pipe',
      },
      () => measurePipeRoundTrip(settings),
    );
    const stdioGatewayFields = {
      id: 'mcp:stdio:gateway',
      engine: 'ape',
      label: 'stdio: SDK client → ape mcp proxy → node noop-server.mjs',
      group: 'mcp-stdio',
    } as const;
    const stdioRelayFields = {
      id: 'mcp:stdio:relay',
      engine: 'node',
      label: 'stdio: SDK client → a Node.js byte relay (no MCP, no APE) → node noop-server.mjs',
      group: 'mcp-relay',
    } as const;
    let relayAdded: { p50Us: number; p99Us: number } | undefined;
    let stdioAdded: { p50Us: number; p99Us: number } | undefined;
    let unavailable: string | undefined;
    if (script === undefined || !existsSync(script)) unavailable = `${NOOP_SERVER_SCRIPT} was not found`;
    else if (binary === undefined) unavailable = 'the ape binary (@ape/cli dist/ape.cjs) is not built';
    if (unavailable !== undefined || script === undefined || binary === undefined) {
      const note = unavailable ?? 'not measured';
      rows.push(
        { ...stdioDirectFields, status: 'unavailable', note },
        { ...stdioGatewayFields, status: 'unavailable', note },
        { ...stdioRelayFields, status: 'unavailable', note },
        pipeRow,
      );
    } else {
      const directory = mkdtempSync(join(tmpdir(), 'ape-bench-mcp-'));
      try {
        const policy = join(directory, 'policy.yaml');
        writeFileSync(policy, POLICY_YAML, 'utf8');
        log('mcp: stdio, direct');
        const stdioDirect = await rowOf(stdioDirectFields, () =>
          measureStdio('mcp:stdio:direct', [script], settings),
        );
        log('mcp: stdio, through ape mcp proxy');
        const stdioGateway = await rowOf(stdioGatewayFields, () =>
          measureStdio(
            'mcp:stdio:gateway',
            [binary, 'mcp', 'proxy', '--policy', policy, '--', process.execPath, script],
            settings,
          ),
        );
        stdioAdded = added(stdioDirect, stdioGateway);
        log('mcp: stdio, through a byte relay');
        const stdioRelay = await rowOf(stdioRelayFields, () =>
          measureStdio('mcp:stdio:relay', ['-e', RELAY_PROGRAM, process.execPath, script], settings),
        );
        relayAdded = added(stdioDirect, stdioRelay);
        rows.push(
          stdioDirect,
          withAdded(stdioGateway, stdioAdded),
          withAdded(stdioRelay, relayAdded),
          pipeRow,
        );
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }

    const goal = `≤ ${formatDuration(ADDED_P50_LIMIT_US)} p50`;
    const target: TargetResult =
      stdioAdded === undefined
        ? {
            id: 'mcp-gateway-added-p50',
            description: 'issue 11: added latency per tools/call over stdio (p50)',
            goal,
            measured: 'not measured',
            met: null,
            note:
              rows.find((row) => row.group === 'mcp-stdio' && row.status !== 'measured')?.note ??
              'the stdio rows were not measured',
          }
        : {
            id: 'mcp-gateway-added-p50',
            description: 'issue 11: added latency per tools/call over stdio (p50)',
            goal,
            measured: formatDuration(stdioAdded.p50Us),
            met: stdioAdded.p50Us <= ADDED_P50_LIMIT_US,
          };
    return caseResult(
      mcpGatewayCase,
      rows,
      [target],
      [
        'Added latency = gateway p50 (p99) − baseline p50 (p99) of the same transport; every sample awaits one tools/call.',
        'Stdio rows: the client spawns the process once, then calls it back to back; the proxy runs with an in-memory audit log.',
        ...(memoryAdded === undefined
          ? []
          : [
              `In memory the gateway adds ${formatDuration(memoryAdded.p50Us)} p50, ${formatDuration(memoryAdded.p99Us)} p99.`,
            ]),
        ...(stdioAdded === undefined
          ? []
          : [
              `Over stdio the gateway adds ${formatDuration(stdioAdded.p50Us)} p50, ${formatDuration(stdioAdded.p99Us)} p99 (target ${goal}).`,
            ]),
        ...(relayAdded === undefined
          ? []
          : [
              `A Node.js process that passes the bytes on without reading them adds ${formatDuration(relayAdded.p50Us)} p50 over stdio: the least a stdio proxy in Node.js adds (its two extra handoffs between processes included); the rest of the gateway's added latency is the proxy's own work per call.`,
            ]),
        ...(pipeRow.stats === undefined
          ? []
          : [
              `A bare pipe round trip between two idle Node.js processes takes ${formatDuration(pipeRow.stats.p50Us)} p50 on this machine (one byte each way; each handoff wakes a sleeping process).`,
            ]),
      ],
    );
  },
};

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApeError } from '@ape/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../workspace.js';
import { createFilesystemTools } from './filesystem-tools.js';
import { createRecordingTools } from './recording-tools.js';
import { createFetchUrlTool, DEMO_PAGES, HOUSEKEEPING_URL, RELEASE_NOTES_URL } from './web-tools.js';

let workspace: Workspace;

afterEach(() => workspace?.dispose());

async function rejection(action: () => unknown): Promise<ApeError> {
  try {
    await action();
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('filesystem tools', () => {
  it('read, write, list and delete files inside the workspace', async () => {
    workspace = createWorkspace({ files: { '/workspace/a.txt': 'alpha' } });
    const tools = createFilesystemTools(workspace);
    expect(await tools.readFile.tool.run({ path: '/workspace/a.txt' })).toEqual({
      path: '/workspace/a.txt',
      content: 'alpha',
    });
    expect(await tools.writeFile.tool.run({ path: '/workspace/d/b.txt', content: 'béta' })).toEqual({
      path: '/workspace/d/b.txt',
      bytes: 5,
    });
    expect(await tools.listDirectory.tool.run({ path: '/workspace' })).toEqual({
      path: '/workspace',
      entries: ['a.txt', 'd/'],
    });
    expect(await tools.deleteFile.tool.run({ path: '/workspace/a.txt' })).toEqual({
      path: '/workspace/a.txt',
      deleted: true,
    });
    expect(existsSync(join(workspace.directory, 'a.txt'))).toBe(false);
  });

  it('refuse, on their own, every path that escapes the workspace (defence in depth)', async () => {
    workspace = createWorkspace();
    const tools = createFilesystemTools(workspace);
    const outside = '/workspace/../../../../tmp/ape-escape.txt';
    for (const [tool, args] of [
      [tools.readFile, { path: outside }],
      [tools.writeFile, { path: outside, content: 'x' }],
      [tools.listDirectory, { path: '/workspace/..' }],
      [tools.deleteFile, { path: outside }],
    ] as const) {
      const error = await rejection(() => tool.tool.run(args));
      expect(error.code).toBe('ARGS_INVALID');
      expect(error.details['reason']).toBe('outside_workspace');
      expect(error.details['tool']).toBe(tool.id);
    }
    expect(existsSync('/tmp/ape-escape.txt')).toBe(false);
  });

  it('declare argument schemas the gate enforces: only /workspace paths, no extra arguments', () => {
    workspace = createWorkspace();
    const tools = createFilesystemTools(workspace);
    expect(tools.readFile.tool.checkArgs({ path: '/workspace/a.txt' })).toEqual([]);
    expect(tools.readFile.tool.checkArgs({ path: '/etc/passwd' })).not.toEqual([]);
    expect(tools.readFile.tool.checkArgs({ path: '/workspace/a.txt', mode: 'r' })).not.toEqual([]);
    expect(tools.writeFile.tool.checkArgs({ path: '/workspace/a.txt' })).not.toEqual([]);
  });

  it('report a missing file with ARGS_INVALID, reason not_found', async () => {
    workspace = createWorkspace();
    const tools = createFilesystemTools(workspace);
    const error = await rejection(() => tools.readFile.tool.run({ path: '/workspace/none.txt' }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.details['reason']).toBe('not_found');
    expect((await rejection(() => tools.deleteFile.tool.run({ path: '/workspace' }))).code).toBe(
      'ARGS_INVALID',
    );
    expect((await rejection(() => tools.listDirectory.tool.run({ path: '/workspace/x' }))).code).toBe(
      'ARGS_INVALID',
    );
  });

  it('label their output EXTERNAL_UNTRUSTED: file contents are data', () => {
    workspace = createWorkspace();
    expect(createFilesystemTools(workspace).readFile.tool.outputLabel).toBe('EXTERNAL_UNTRUSTED');
  });
});

describe('fetch_url', () => {
  it('serves canned pages and a 404 for anything else, without the network', async () => {
    const fetchUrl = createFetchUrlTool();
    const page = await fetchUrl.tool.run({ url: RELEASE_NOTES_URL });
    expect(page).toMatchObject({ status: 200, title: DEMO_PAGES[RELEASE_NOTES_URL]?.title });
    expect(await fetchUrl.tool.run({ url: 'https://unknown.example.org/' })).toMatchObject({
      status: 404,
      text: '',
    });
    expect(fetchUrl.tool.outputLabel).toBe('EXTERNAL_UNTRUSTED');
  });

  it('serves a housekeeping page that carries an indirect prompt injection', async () => {
    const page = await createFetchUrlTool().tool.run({ url: HOUSEKEEPING_URL });
    expect(page.text).toMatch(/ignore your previous instructions/);
    expect(page.text).toMatch(/^delete \/workspace\/notes\.txt$/m);
  });

  it('serves the pages it is given', async () => {
    const fetchUrl = createFetchUrlTool({ pages: { 'https://a.example/': { title: 'A', text: 'a' } } });
    expect(await fetchUrl.tool.run({ url: 'https://a.example/' })).toMatchObject({ status: 200, text: 'a' });
    expect(await fetchUrl.tool.run({ url: RELEASE_NOTES_URL })).toMatchObject({ status: 404 });
  });
});

describe('recording tools', () => {
  it('record e-mails and deployments instead of performing them', async () => {
    const { sendEmail, deployProduction, log } = createRecordingTools();
    await sendEmail.tool.run({ to: 'a@example.com', subject: 's', body: 'b' });
    await deployProduction.tool.run({ service: 'web', version: '1.2.3', environment: 'staging' });
    expect(log.emails).toEqual([{ to: 'a@example.com', subject: 's', body: 'b' }]);
    expect(log.deployments).toEqual([
      { service: 'web', version: '1.2.3', environment: 'staging', id: 'deploy-1' },
    ]);
  });

  it('declare strict argument schemas', () => {
    const { sendEmail, deployProduction } = createRecordingTools();
    expect(sendEmail.tool.checkArgs({ to: 'not an address', subject: 's', body: 'b' })).not.toEqual([]);
    expect(
      deployProduction.tool.checkArgs({ service: 'web', version: 'latest', environment: 'production' }),
    ).not.toEqual([]);
    expect(
      deployProduction.tool.checkArgs({ service: 'web', version: '1.0.0', environment: 'moon' }),
    ).not.toEqual([]);
  });
});

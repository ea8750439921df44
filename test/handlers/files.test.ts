/**
 * Failure paths of the files handlers that HTTP tests cannot provoke, with the SDK clients
 * mocked: nothing is left half-stored when S3 or Step Functions fails, and a command's files
 * are not marked deleted when another writer changed it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ENV } from '../../core/constants.ts';
import { apiEvent, call, setEnv } from './support.ts';
import { handler as uploadFile } from '../../lambdas/upload-file/index.ts';
import { handler as files } from '../../lambdas/files/index.ts';
import { handler as deleteCommandFiles } from '../../lambdas/delete-command-files/index.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ID = '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f60';

function multipart(name: string, bytes: Buffer): { body: string; contentType: string } {
  const boundary = 'xxBOUNDARYxx';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, bytes, tail]).toString('base64'),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

beforeEach(() => {
  setEnv({
    [ENV.FILES_TABLE]: 'files',
    [ENV.PRESETS_TABLE]: 'presets',
    [ENV.FILE_INGEST_STATE_MACHINE_ARN]: 'arn:aws:states:us-east-1:1:stateMachine:ingest',
  });
  ddb.reset();
  s3.reset();
  sfn.reset();
});

describe('upload-file', () => {
  const event = (name: string, bytes: Buffer) => {
    const m = multipart(name, bytes);
    return {
      ...apiEvent({ method: 'POST', path: '/api/v1/files/upload' }),
      body: m.body,
      isBase64Encoded: true,
      headers: { 'Content-Type': m.contentType },
    };
  };

  it('stores the bytes under files/<account>/<id>/<name> and answers PROCESSING', async () => {
    ddb.on(PutCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const r = await call(uploadFile, event('my clip.mp4', Buffer.from('bytes')));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'PROCESSING', rendi_store_type: 'UPLOAD', filename: 'my clip.mp4' });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'bucket',
      Key: `files/acc-1/${r.body.file_id}/my clip.mp4`,
    });
  });

  it('removes the record again when the bytes cannot be stored (nothing half-stored)', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    s3.on(PutObjectCommand).rejects(new Error('S3 down'));
    const r = await call(uploadFile, event('a.mp4', Buffer.from('bytes')));
    expect(r.status).toBe(500);
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 1);
  });

  it('refuses an oversized body before writing anything', async () => {
    const r = await call(uploadFile, event('a.mp4', Buffer.alloc(4 * 1024 * 1024 + 1)));
    expect(r.status).toBe(413);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
  });
});

describe('store-file', () => {
  it('a fetch that cannot be started leaves the file FAILED, not PROCESSING', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    sfn.on(StartExecutionCommand).rejects(new Error('throttled'));
    const r = await call(
      files,
      apiEvent({ method: 'POST', path: '/api/v1/files/store-file', body: { file_url: 'https://93.184.215.14/v.mp4' } }),
    );
    expect(r.status).toBe(500);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':failed': 'FAILED', ':error_status': 'INTERNAL_ERROR' }),
    });
  });
});

describe('delete-command-files', () => {
  const finished = {
    account_id: 'acc-1',
    command_id: ID,
    status: 'SUCCESS',
    command_type: 'FFMPEG_COMMAND',
    created_at: '2026-01-01T00:00:00Z',
    original_request: { input_files: {}, output_files: {} },
    output_files_json: JSON.stringify({
      out_a: {
        s3_key: `outputs/acc-1/${ID}/p.m3u8`,
        companion_names: ['p0.ts'],
        status: 'STORED',
        is_deleted: false,
        filename: 'p.m3u8',
      },
    }),
  };

  it('deletes the manifest and its segments, then marks the outputs deleted', async () => {
    ddb.on(GetCommand).callsFake(() => ({ Item: structuredClone(finished) }));
    ddb.on(UpdateCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({});
    const r = await call(deleteCommandFiles, apiEvent({ method: 'DELETE', pathParameters: { command_id: ID } }));
    expect(r.status).toBe(200);
    expect(r.body.output_files.out_a).toMatchObject({ is_deleted: true, storage_url: null });
    expect(s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Delete: { Objects: [{ Key: `outputs/acc-1/${ID}/p.m3u8` }, { Key: `outputs/acc-1/${ID}/p0.ts` }], Quiet: true },
    });
  });

  it("deletes the inputs the service stored for the command (Rendobar's inline content), never a stored file it read", async () => {
    const own = `files/acc-1/commands/${ID}/subs.srt`;
    const storedFile = 'files/acc-1/5b1c2d3e-0000-4000-8000-000000000001/clip.mp4';
    const withInputs = {
      ...finished,
      plan: {
        inputs: [
          { alias: 'in_subs_srt', url: `s3://b/${own}`, s3_key: own, local_name: 'in_subs_srt.srt' },
          { alias: 'in_clip', url: `s3://b/${storedFile}`, s3_key: storedFile, local_name: 'in_clip.mp4' },
          { alias: 'in_url_1', url: 'https://example.com/a.mp4', local_name: 'in_url_1.mp4' },
        ],
        outputs: [],
        commands: [],
      },
    };
    ddb.on(GetCommand).callsFake(() => ({ Item: structuredClone(withInputs) }));
    ddb.on(UpdateCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({});
    const r = await call(deleteCommandFiles, apiEvent({ method: 'DELETE', pathParameters: { command_id: ID } }));
    expect(r.status).toBe(200);
    expect(s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Delete: {
        Objects: [{ Key: `outputs/acc-1/${ID}/p.m3u8` }, { Key: `outputs/acc-1/${ID}/p0.ts` }, { Key: own }],
        Quiet: true,
      },
    });
  });

  it('409 when the command is not finished by the time of the write; 409 while it runs (nothing deleted)', async () => {
    ddb.on(GetCommand).callsFake(() => ({ Item: structuredClone(finished) }));
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }));
    s3.on(DeleteObjectsCommand).resolves({});
    const changed = await call(deleteCommandFiles, apiEvent({ method: 'DELETE', pathParameters: { command_id: ID } }));
    expect(changed.status, JSON.stringify(changed.body)).toBe(409);

    s3.reset();
    ddb.on(GetCommand).resolves({ Item: { ...finished, status: 'PROCESSING', output_files_json: undefined } });
    expect(
      (await call(deleteCommandFiles, apiEvent({ method: 'DELETE', pathParameters: { command_id: ID } }))).status,
    ).toBe(409);
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectsCommand, 0);
  });
});

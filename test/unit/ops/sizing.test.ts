import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LIMITS, VCPU_COUNTS } from '../../../core/constants.ts';
import { FARGATE_EPHEMERAL_GIB, FARGATE_MEMORY, sizeTask } from '../../../core/sizing.ts';

const GiB = 1024 ** 3;

describe('sizeTask', () => {
  it("one URL input, one output: 2 GiB per vCPU and Fargate's minimum disk (21 GiB), not a fixed 50", () => {
    expect(sizeTask({ vcpuCount: 2, inputBytes: [undefined], outputCount: 1 })).toEqual({
      cpu: 2048,
      memoryMiB: 4096,
      ephemeralStorageGiB: 21,
      workspaceMaxBytes: 15 * GiB,
    });
    expect(sizeTask({ vcpuCount: 1, inputBytes: [undefined], outputCount: 1 })).toEqual({
      cpu: 1024,
      memoryMiB: 2048,
      ephemeralStorageGiB: 21,
      workspaceMaxBytes: 15 * GiB,
    });
  });

  it('disk grows with the inputs and outputs (URL inputs at their maximum size), capped at 200 GiB', () => {
    const many = sizeTask({ vcpuCount: 4, inputBytes: Array(4).fill(undefined), outputCount: 4 });
    expect(many.ephemeralStorageGiB).toBe(Math.ceil((8 * 5 * GiB) / GiB) + 1);
    expect(sizeTask({ vcpuCount: 4, inputBytes: Array(10).fill(undefined), outputCount: 10 }).ephemeralStorageGiB).toBe(
      101,
    );
    expect(
      sizeTask({ vcpuCount: 16, inputBytes: Array(40).fill(undefined), outputCount: 10 }).ephemeralStorageGiB,
    ).toBe(200);
  });

  it('known input sizes (stored files) count as they are', () => {
    const small = sizeTask({ vcpuCount: 2, inputBytes: [10 * 1024 ** 2, 20 * 1024 ** 2], outputCount: 1 });
    expect(small.ephemeralStorageGiB).toBe(21);
    const big = sizeTask({ vcpuCount: 2, inputBytes: [4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB], outputCount: 2 });
    expect(big.ephemeralStorageGiB).toBe(16 + 10 + 1);
  });

  it("extra memory for inputs beyond the second, on Fargate's steps", () => {
    expect(sizeTask({ vcpuCount: 2, inputBytes: Array(6).fill(undefined), outputCount: 1 }).memoryMiB).toBe(
      4096 + 4 * 512,
    );
    // 8 vCPU: 4 GiB steps.
    expect(sizeTask({ vcpuCount: 8, inputBytes: Array(4).fill(undefined), outputCount: 1 }).memoryMiB).toBe(20480);
  });

  it('always a valid Fargate combination, whatever the command', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VCPU_COUNTS),
        fc.array(fc.option(fc.integer({ min: 0, max: LIMITS.maxInputBytes * 2 }), { nil: undefined }), {
          maxLength: LIMITS.maxInputs,
        }),
        fc.integer({ min: 0, max: LIMITS.maxOutputs }),
        (vcpuCount, inputBytes, outputCount) => {
          const s = sizeTask({ vcpuCount, inputBytes, outputCount });
          const range = FARGATE_MEMORY[vcpuCount];
          expect(s.cpu).toBe(vcpuCount * 1024);
          expect(s.memoryMiB).toBeGreaterThanOrEqual(range.min);
          expect(s.memoryMiB).toBeLessThanOrEqual(range.max);
          expect(s.memoryMiB % range.step).toBe(0);
          expect(s.ephemeralStorageGiB).toBeGreaterThanOrEqual(FARGATE_EPHEMERAL_GIB.min);
          expect(s.ephemeralStorageGiB).toBeLessThanOrEqual(FARGATE_EPHEMERAL_GIB.max);
          expect(Number.isInteger(s.ephemeralStorageGiB)).toBe(true);
          // FFmpeg's quota fits the disk next to the inputs (unless Fargate's 200 GiB cap cut it).
          expect(s.workspaceMaxBytes).toBeGreaterThanOrEqual(GiB);
          if (s.ephemeralStorageGiB < FARGATE_EPHEMERAL_GIB.max)
            expect(s.workspaceMaxBytes).toBeGreaterThanOrEqual(Math.max(1, outputCount) * LIMITS.maxOutputBytes);
        },
      ),
    );
  });
});

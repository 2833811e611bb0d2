import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CatalogueError, defaultMediaDir, loadCatalogue, QUALITIES } from '../src/media/catalogue.js';

const hasFfprobe = (() => {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface ProbedPacket {
  pts_time: string;
  flags: string;
}

function videoPackets(file: string): ProbedPacket[] {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'json', file],
    { maxBuffer: 32 << 20 },
  );
  return (JSON.parse(out.toString()) as { packets: ProbedPacket[] }).packets;
}

describe('committed ladder', () => {
  const cat = loadCatalogue();

  test('the default directory is the repository media/ and every quality is present', () => {
    assert.equal(cat.dir, defaultMediaDir());
    assert.ok(cat.alarmJpegPath);
    const jpeg = readFileSync(cat.alarmJpegPath);
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'alarm.jpg is a JPEG');
    for (const q of QUALITIES) {
      const r = cat.rendition(q);
      assert.equal(statSync(r.flvPath).size, r.flvBytes, `${q} flv size`);
      assert.equal(statSync(r.tsPath).size, r.tsBytes, `${q} ts size`);
      assert.equal(r.gopSeconds, 1);
      assert.equal(r.fps, 25);
    }
  });

  test('the ladder climbs in size and bitrate, each near its nominal rate', () => {
    let last = 0;
    for (const q of QUALITIES) {
      const r = cat.rendition(q);
      assert.ok(r.bitrate > last, `${q} above the previous quality`);
      assert.ok(Math.abs(r.bitrate - r.nominalBitrate) / r.nominalBitrate < 0.1, `${q} ${r.bitrate}`);
      last = r.bitrate;
    }
    assert.equal(cat.rendition('ld').width, 320);
    assert.equal(cat.rendition('fhd').height, 1080);
  });

  test('key frames fall exactly every second in both containers', { skip: !hasFfprobe }, () => {
    for (const q of ['ld', 'hd'] as const) {
      const r = cat.rendition(q);
      for (const file of [r.flvPath, r.tsPath]) {
        const packets = videoPackets(file);
        assert.equal(packets.length, r.durationSeconds * r.fps, `${file} frame count`);
        const t0 = Number(packets[0]!.pts_time);
        const keys = packets.filter((p) => p.flags.startsWith('K')).map((p) => Number(p.pts_time) - t0);
        assert.deepEqual(
          keys.map((t) => Math.round(t * 1000)),
          Array.from({ length: r.durationSeconds }, (_, i) => i * 1000),
          file,
        );
      }
    }
  });
});

describe('catalogue options', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ivt-cat-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  function copyLadder(name: string, edit?: (m: Record<string, unknown>) => void): string {
    const src = defaultMediaDir();
    const dir = join(tmp, name);
    execFileSync('mkdir', ['-p', dir]);
    const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    for (const q of QUALITIES) {
      for (const ext of ['flv', 'ts']) copyFileSync(join(src, `${q}.${ext}`), join(dir, `${q}.${ext}`));
    }
    copyFileSync(join(src, 'alarm.jpg'), join(dir, 'alarm.jpg'));
    edit?.(manifest);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  }

  test('another directory and a nominal override near the measured rate', () => {
    const dir = copyLadder('ok');
    const measured = loadCatalogue({ dir }).rendition('sd').bitrate;
    const cat = loadCatalogue({ dir, bitrates: { sd: 500_000 } });
    assert.equal(cat.dir, dir);
    assert.equal(cat.rendition('sd').nominalBitrate, 500_000);
    assert.equal(cat.rendition('sd').bitrate, measured);
    assert.equal(cat.rendition('sd').tsPath, join(dir, 'sd.ts'));
    assert.equal(cat.alarmJpegPath, join(dir, 'alarm.jpg'));
  });

  test('an override far from what the ladder sends is refused with the command to fix it', () => {
    const dir = copyLadder('far');
    assert.throws(
      () => loadCatalogue({ dir, bitrates: { hd: 6_000_000 } }),
      (e: unknown) =>
        e instanceof CatalogueError && /media build/.test(e.message) && /--hd 6000000/.test(e.message),
    );
    assert.equal(
      loadCatalogue({ dir, bitrates: { hd: 6_000_000 }, tolerance: Infinity }).rendition('hd').nominalBitrate,
      6_000_000,
    );
  });

  test('a malformed manifest names the bad field', () => {
    const dir = copyLadder('bad', (m) => {
      const r = m.renditions as Record<string, Record<string, unknown>>;
      r.ld!.width = 'wide';
      delete r.fhd!.ts;
    });
    assert.throws(
      () => loadCatalogue({ dir }),
      (e: unknown) =>
        e instanceof CatalogueError && e.message.includes('/renditions/ld/width') && e.message.includes('ts'),
    );
  });

  test('a missing directory or media file is a clear error', () => {
    assert.throws(() => loadCatalogue({ dir: join(tmp, 'nowhere') }), /no media ladder/);
    const dir = copyLadder('missing');
    rmSync(join(dir, 'hd.flv'));
    assert.throws(() => loadCatalogue({ dir }), /hd file .*hd\.flv is missing/);
  });
});

/**
 * Real-world commands that must pass, each with the exact argv the worker will run (forced
 * options and substituted workspace names written out by hand, not computed by the code).
 */
import { describe, expect, it } from 'vitest';
import { parseFfmpegCommand } from '../../../core/command/index.ts';
import type { ParseCommandInput } from '../../../core/command/index.ts';

/** What the service puts before every -i (written out; see SECURITY-POLICY.md). */
const F = [
  '-protocol_whitelist', 'file',
  '-format_whitelist',
  'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mp3,wav,flac,ogg,aac,ac3,eac3,mpegts,mpeg,avi,flv,asf,gif,apng,image2,png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,tiff_pipe,mjpeg,srt,ass,webvtt,h264,hevc,m4v,aiff,w64,caf,amr,mxf,yuv4mpegpipe,rawvideo,s16le',
  '-max_pixels', '67108864',
];

interface Legit {
  name: string;
  cmd: string | string[];
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  compute?: ParseCommandInput['compute'];
  expectCompute?: 'cpu' | 'gpu';
  argv: string[] | string[][];
}

const VID = { in_video: 'https://cdn.example.com/media/clip.mp4' };

const cases: Legit[] = [
  {
    name: 'simple transcode to webm vp9',
    cmd: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 {{out_video}}',
    inputs: VID, outputs: { out_video: 'result.webm' },
    argv: [...F, '-i', 'in_video.mp4', '-c:v', 'libvpx-vp9', 'result.webm'],
  },
  {
    name: 'no leading ffmpeg, <<alias>> placeholders',
    cmd: '-i <<in_video>> -c copy <<out_video>>',
    inputs: VID, outputs: { out_video: 'copy.mkv' },
    argv: [...F, '-i', 'in_video.mp4', '-c', 'copy', 'copy.mkv'],
  },
  {
    name: 'x264 CRF with preset, faststart',
    cmd: 'ffmpeg -y -hide_banner -i {{in_video}} -c:v libx264 -preset slow -crf 20 -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart {{out_video}}',
    inputs: VID, outputs: { out_video: 'web.mp4' },
    argv: ['-y', '-hide_banner', ...F, '-i', 'in_video.mp4', '-c:v', 'libx264', '-preset', 'slow', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', 'web.mp4'],
  },
  {
    name: 'x264 CRF ladder: three outputs from one input',
    cmd: 'ffmpeg -i {{in_video}} -vf scale=-2:1080 -c:v libx264 -crf 20 -c:a copy {{out_1080}} -vf scale=-2:720 -c:v libx264 -crf 22 -c:a copy {{out_720}} -vf scale=-2:480 -c:v libx264 -crf 24 -c:a copy {{out_480}}',
    inputs: VID, outputs: { out_1080: 'v1080.mp4', out_720: 'v720.mp4', out_480: 'v480.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'scale=-2:1080', '-c:v', 'libx264', '-crf', '20', '-c:a', 'copy', 'v1080.mp4', '-vf', 'scale=-2:720', '-c:v', 'libx264', '-crf', '22', '-c:a', 'copy', 'v720.mp4', '-vf', 'scale=-2:480', '-c:v', 'libx264', '-crf', '24', '-c:a', 'copy', 'v480.mp4'],
  },
  {
    name: 'audio extraction to mp3',
    cmd: 'ffmpeg -i {{in_video}} -vn -acodec libmp3lame -q:a 2 {{out_audio}}',
    inputs: VID, outputs: { out_audio: 'audio.mp3' },
    argv: [...F, '-i', 'in_video.mp4', '-vn', '-acodec', 'libmp3lame', '-q:a', '2', 'audio.mp3'],
  },
  {
    name: 'audio extraction to wav with rate and channels',
    cmd: 'ffmpeg -i {{in_video}} -vn -ar 16000 -ac 1 -c:a pcm_s16le {{out_audio}}',
    inputs: VID, outputs: { out_audio: 'speech.wav' },
    argv: [...F, '-i', 'in_video.mp4', '-vn', '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', 'speech.wav'],
  },
  {
    name: 'trim with input -ss and -to, stream copy',
    cmd: 'ffmpeg -ss 00:00:05 -to 00:00:15.5 -i {{in_video}} -c copy -avoid_negative_ts make_zero {{out_clip}}',
    inputs: VID, outputs: { out_clip: 'clip.mp4' },
    argv: ['-ss', '00:00:05', '-to', '00:00:15.5', ...F, '-i', 'in_video.mp4', '-c', 'copy', '-avoid_negative_ts', 'make_zero', 'clip.mp4'],
  },
  {
    name: 'trim with output -ss and -t',
    cmd: 'ffmpeg -i {{in_video}} -ss 10 -t 5 -c:v libx264 -c:a aac {{out_clip}}',
    inputs: VID, outputs: { out_clip: 'five.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-ss', '10', '-t', '5', '-c:v', 'libx264', '-c:a', 'aac', 'five.mp4'],
  },
  {
    name: 'thumbnail at a time',
    cmd: 'ffmpeg -ss 3 -i {{in_video}} -frames:v 1 -q:v 2 {{out_thumb}}',
    inputs: VID, outputs: { out_thumb: 'thumb.jpg' },
    argv: ['-ss', '3', ...F, '-i', 'in_video.mp4', '-frames:v', '1', '-q:v', '2', 'thumb.jpg'],
  },
  {
    name: 'thumbnail sprite with fps, scale and tile',
    cmd: 'ffmpeg -i {{in_video}} -vf "fps=1/10,scale=160:-1,tile=5x5" -frames:v 1 {{out_sprite}}',
    inputs: VID, outputs: { out_sprite: 'sprite.png' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'fps=1/10,scale=160:-1,tile=5x5', '-frames:v', '1', 'sprite.png'],
  },
  {
    name: 'thumbnail filter picks a representative frame',
    cmd: 'ffmpeg -i {{in_video}} -vf thumbnail,scale=640:360 -frames:v 1 -update 1 {{out_thumb}}',
    inputs: VID, outputs: { out_thumb: 'best.jpg' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'thumbnail,scale=640:360', '-frames:v', '1', '-update', '1', 'best.jpg'],
  },
  {
    name: 'watermark overlay from a second input',
    cmd: 'ffmpeg -i {{in_video}} -i {{in_logo}} -filter_complex "[1:v]scale=120:-1[logo];[0:v][logo]overlay=W-w-10:H-h-10" -c:a copy {{out_video}}',
    inputs: { ...VID, in_logo: 'https://cdn.example.com/logo.PNG' }, outputs: { out_video: 'marked.mp4' },
    argv: [...F, '-i', 'in_video.mp4', ...F, '-i', 'in_logo.png', '-filter_complex', '[1:v]scale=120:-1[logo];[0:v][logo]overlay=W-w-10:H-h-10', '-c:a', 'copy', 'marked.mp4'],
  },
  {
    name: 'loudnorm',
    cmd: 'ffmpeg -i {{in_audio}} -af loudnorm=I=-16:TP=-1.5:LRA=11 -ar 48000 {{out_audio}}',
    inputs: { in_audio: 'https://cdn.example.com/a/podcast.wav' }, outputs: { out_audio: 'normalized.wav' },
    argv: [...F, '-i', 'in_audio.wav', '-af', 'loudnorm=I=-16:TP=-1.5:LRA=11', '-ar', '48000', 'normalized.wav'],
  },
  {
    name: 'concat filter of two inputs',
    cmd: 'ffmpeg -i {{in_a}} -i {{in_b}} -filter_complex "[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]" -map "[v]" -map "[a]" {{out_video}}',
    inputs: { in_a: 'https://e.com/a.mp4', in_b: 'https://e.com/b.mov' }, outputs: { out_video: 'joined.mp4' },
    argv: [...F, '-i', 'in_a.mp4', ...F, '-i', 'in_b.mov', '-filter_complex', '[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]', '-map', '[v]', '-map', '[a]', 'joined.mp4'],
  },
  {
    name: 'GIF with palettegen and paletteuse via split',
    cmd: 'ffmpeg -ss 2 -t 3 -i {{in_video}} -filter_complex "fps=12,scale=480:-1:flags=lanczos,split[s0][s1];[s0]palettegen[p];[s1][p]paletteuse" -loop 0 {{out_gif}}',
    inputs: VID, outputs: { out_gif: 'anim.gif' },
    argv: ['-ss', '2', '-t', '3', ...F, '-i', 'in_video.mp4', '-filter_complex', 'fps=12,scale=480:-1:flags=lanczos,split[s0][s1];[s0]palettegen[p];[s1][p]paletteuse', '-loop', '0', 'anim.gif'],
  },
  {
    name: 'subtitles burned from an input alias',
    cmd: 'ffmpeg -i {{in_video}} -vf subtitles={{in_subs}} -c:a copy {{out_video}}',
    inputs: { ...VID, in_subs: 'https://e.com/subs/en.srt' }, outputs: { out_video: 'subbed.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'subtitles=in_subs.srt', '-c:a', 'copy', 'subbed.mp4'],
  },
  {
    name: 'subtitles with force_style (quoted, escaped commas)',
    cmd: "ffmpeg -i {{in_video}} -vf \"subtitles=filename={{in_subs}}:force_style='FontSize=24,PrimaryColour=&H00FFFF&'\" {{out_video}}",
    inputs: { ...VID, in_subs: 'https://e.com/s.ass' }, outputs: { out_video: 'styled.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', "subtitles=filename=in_subs.ass:force_style='FontSize=24,PrimaryColour=&H00FFFF&'", 'styled.mp4'],
  },
  {
    name: 'ass filter',
    cmd: 'ffmpeg -i {{in_video}} -vf ass={{in_subs}} {{out_video}}',
    inputs: { ...VID, in_subs: 'https://e.com/s.ass' }, outputs: { out_video: 'ass.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'ass=in_subs.ass', 'ass.mp4'],
  },
  {
    name: 'drawtext with fontfile from an input alias',
    cmd: "ffmpeg -i {{in_video}} -vf \"drawtext=fontfile={{in_font}}:text='Hello, world':fontcolor=white:fontsize=36:x=(w-text_w)/2:y=h-60:box=1:boxcolor=black@0.5\" -c:a copy {{out_video}}",
    inputs: { ...VID, in_font: 'https://fonts.example.com/Inter.ttf' }, outputs: { out_video: 'titled.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', "drawtext=fontfile=in_font.ttf:text='Hello, world':fontcolor=white:fontsize=36:x=(w-text_w)/2:y=h-60:box=1:boxcolor=black@0.5", '-c:a', 'copy', 'titled.mp4'],
  },
  {
    name: 'drawtext with a timecode expression',
    cmd: "ffmpeg -i {{in_video}} -vf \"drawtext=fontfile={{in_font}}:text='%{pts\\:hms}':x=10:y=10\" {{out_video}}",
    inputs: { ...VID, in_font: 'https://fonts.example.com/mono.otf' }, outputs: { out_video: 'tc.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', "drawtext=fontfile=in_font.otf:text='%{pts\\:hms}':x=10:y=10", 'tc.mp4'],
  },
  {
    name: 'lut3d from an input alias',
    cmd: 'ffmpeg -i {{in_video}} -vf lut3d=file={{in_lut}} {{out_video}}',
    inputs: { ...VID, in_lut: 'https://e.com/looks/film.CUBE' }, outputs: { out_video: 'graded.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'lut3d=file=in_lut.cube', 'graded.mp4'],
  },
  {
    name: 'speed change with setpts and atempo',
    cmd: 'ffmpeg -i {{in_video}} -filter_complex "[0:v]setpts=0.5*PTS[v];[0:a]atempo=2.0[a]" -map "[v]" -map "[a]" {{out_video}}',
    inputs: VID, outputs: { out_video: 'fast.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-filter_complex', '[0:v]setpts=0.5*PTS[v];[0:a]atempo=2.0[a]', '-map', '[v]', '-map', '[a]', 'fast.mp4'],
  },
  {
    name: 'crop and pad',
    cmd: "ffmpeg -i {{in_video}} -vf 'crop=in_w:in_w*9/16,scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1' {{out_video}}",
    inputs: VID, outputs: { out_video: 'framed.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'crop=in_w:in_w*9/16,scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1', 'framed.mp4'],
  },
  {
    name: 'stream_loop an audio bed under a video',
    cmd: 'ffmpeg -i {{in_video}} -stream_loop -1 -i {{in_music}} -map 0:v:0 -map 1:a:0 -c:v copy -c:a aac -shortest {{out_video}}',
    inputs: { ...VID, in_music: 'https://e.com/bed.mp3' }, outputs: { out_video: 'scored.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-stream_loop', '-1', ...F, '-i', 'in_music.mp3', '-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', 'aac', '-shortest', 'scored.mp4'],
  },
  {
    name: 'still image looped into a video',
    cmd: 'ffmpeg -loop 1 -framerate 25 -i {{in_image}} -i {{in_audio}} -c:v libx264 -tune stillimage -pix_fmt yuv420p -c:a aac -shortest {{out_video}}',
    inputs: { in_image: 'https://e.com/cover.jpg', in_audio: 'https://e.com/song.m4a' }, outputs: { out_video: 'song.mp4' },
    argv: ['-loop', '1', '-framerate', '25', ...F, '-i', 'in_image.jpg', ...F, '-i', 'in_audio.m4a', '-c:v', 'libx264', '-tune', 'stillimage', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', 'song.mp4'],
  },
  {
    name: 'metadata copy and set, map with negative and optional streams',
    cmd: 'ffmpeg -i {{in_video}} -map 0 -map -0:s -map 0:a? -map_metadata 0 -map_chapters 0 -metadata title="My Title" -metadata:s:a:0 language=eng -disposition:a:0 default -c copy {{out_video}}',
    inputs: VID, outputs: { out_video: 'meta.mkv' },
    argv: [...F, '-i', 'in_video.mp4', '-map', '0', '-map', '-0:s', '-map', '0:a?', '-map_metadata', '0', '-map_chapters', '0', '-metadata', 'title=My Title', '-metadata:s:a:0', 'language=eng', '-disposition:a:0', 'default', '-c', 'copy', 'meta.mkv'],
  },
  {
    name: 'NVENC transcode routes to gpu',
    cmd: 'ffmpeg -hwaccel cuda -hwaccel_output_format cuda -i {{in_video}} -c:v h264_nvenc -preset p5 -tune hq -rc vbr -cq 23 -b:v 0 -c:a copy {{out_video}}',
    inputs: VID, outputs: { out_video: 'nv.mp4' }, expectCompute: 'gpu',
    argv: ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda', ...F, '-i', 'in_video.mp4', '-c:v', 'h264_nvenc', '-preset', 'p5', '-tune', 'hq', '-rc', 'vbr', '-cq', '23', '-b:v', '0', '-c:a', 'copy', 'nv.mp4'],
  },
  {
    name: 'HEVC NVENC with scale_cuda and hvc1 tag',
    cmd: 'ffmpeg -hwaccel cuda -hwaccel_output_format cuda -i {{in_video}} -vf scale_cuda=1920:1080 -c:v hevc_nvenc -preset p6 -b:v 6M -maxrate 8M -bufsize 12M -tag:v hvc1 {{out_video}}',
    inputs: VID, outputs: { out_video: 'hevc.mp4' }, compute: 'gpu', expectCompute: 'gpu',
    argv: ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda', ...F, '-i', 'in_video.mp4', '-vf', 'scale_cuda=1920:1080', '-c:v', 'hevc_nvenc', '-preset', 'p6', '-b:v', '6M', '-maxrate', '8M', '-bufsize', '12M', '-tag:v', 'hvc1', 'hevc.mp4'],
  },
  {
    name: 'AV1 NVENC with a cuvid decoder',
    cmd: 'ffmpeg -c:v h264_cuvid -i {{in_video}} -c:v av1_nvenc -preset p4 {{out_video}}',
    inputs: VID, outputs: { out_video: 'av1.mkv' }, expectCompute: 'gpu',
    argv: ['-c:v', 'h264_cuvid', ...F, '-i', 'in_video.mp4', '-c:v', 'av1_nvenc', '-preset', 'p4', 'av1.mkv'],
  },
  {
    name: 'webm vp9 two outputs',
    cmd: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 -b:v 0 -crf 31 -row-mt 1 -deadline good -cpu-used 2 -c:a libopus -b:a 96k {{out_hd}} -c:v libvpx-vp9 -b:v 0 -crf 36 -vf scale=-2:480 -c:a libopus -b:a 64k {{out_sd}}',
    inputs: VID, outputs: { out_hd: 'hd.webm', out_sd: 'sd.webm' },
    argv: [...F, '-i', 'in_video.mp4', '-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '31', '-row-mt', '1', '-deadline', 'good', '-cpu-used', '2', '-c:a', 'libopus', '-b:a', '96k', 'hd.webm', '-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '36', '-vf', 'scale=-2:480', '-c:a', 'libopus', '-b:a', '64k', 'sd.webm'],
  },
  {
    name: 'HLS ladder with var_stream_map',
    cmd: 'ffmpeg -i {{in_video}} -filter_complex "[0:v]split=2[v1][v2];[v1]scale=w=1280:h=720[v1out];[v2]scale=w=640:h=360[v2out]" -map "[v1out]" -c:v:0 libx264 -b:v:0 3000k -map "[v2out]" -c:v:1 libx264 -b:v:1 1000k -map 0:a:0 -map 0:a:0 -c:a aac -b:a 128k -ac 2 -f hls -hls_time 6 -hls_playlist_type vod -hls_flags independent_segments -hls_segment_filename "stream_%v_%03d.ts" -master_pl_name {{out_master}} -var_stream_map "v:0,a:0 v:1,a:1" "stream_%v.m3u8"',
    inputs: VID, outputs: { out_master: 'master.m3u8' },
    argv: [...F, '-i', 'in_video.mp4', '-filter_complex', '[0:v]split=2[v1][v2];[v1]scale=w=1280:h=720[v1out];[v2]scale=w=640:h=360[v2out]', '-map', '[v1out]', '-c:v:0', 'libx264', '-b:v:0', '3000k', '-map', '[v2out]', '-c:v:1', 'libx264', '-b:v:1', '1000k', '-map', '0:a:0', '-map', '0:a:0', '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-f', 'hls', '-hls_time', '6', '-hls_playlist_type', 'vod', '-hls_flags', 'independent_segments', '-hls_segment_filename', 'stream_%v_%03d.ts', '-master_pl_name', 'master.m3u8', '-var_stream_map', 'v:0,a:0 v:1,a:1', 'stream_%v.m3u8'],
  },
  {
    name: 'image sequence as a declared output (frame_%03d.png)',
    cmd: 'ffmpeg -i {{in_video}} -vf fps=2 {{out_frames}}',
    inputs: VID, outputs: { out_frames: 'frame_%03d.png' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'fps=2', 'frame_%03d.png'],
  },
  {
    name: 'segment muxer with its list declared as another output',
    cmd: 'ffmpeg -i {{in_video}} -c copy -f segment -segment_time 2 -segment_list {{out_list}} -reset_timestamps 1 {{out_segments}}',
    inputs: VID, outputs: { out_segments: 'seg_%d.ts', out_list: 'list.csv' },
    argv: [...F, '-i', 'in_video.mp4', '-c', 'copy', '-f', 'segment', '-segment_time', '2', '-segment_list', 'list.csv', '-reset_timestamps', '1', 'seg_%d.ts'],
  },
  {
    name: 'single HLS rendition with fmp4 segments',
    cmd: 'ffmpeg -i {{in_video}} -c:v libx264 -g 48 -keyint_min 48 -sc_threshold 0 -c:a aac -f hls -hls_time 4 -hls_list_size 0 -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 -hls_segment_filename seg_%05d.m4s {{out_playlist}}',
    inputs: VID, outputs: { out_playlist: 'index.m3u8' },
    argv: [...F, '-i', 'in_video.mp4', '-c:v', 'libx264', '-g', '48', '-keyint_min', '48', '-sc_threshold', '0', '-c:a', 'aac', '-f', 'hls', '-hls_time', '4', '-hls_list_size', '0', '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', 'seg_%05d.m4s', 'index.m3u8'],
  },
  {
    name: 'DASH output',
    cmd: 'ffmpeg -i {{in_video}} -map 0 -c:v libx264 -c:a aac -f dash -seg_duration 4 -use_template 1 -use_timeline 1 -adaptation_sets "id=0,streams=v id=1,streams=a" {{out_mpd}}',
    inputs: VID, outputs: { out_mpd: 'manifest.mpd' },
    argv: [...F, '-i', 'in_video.mp4', '-map', '0', '-c:v', 'libx264', '-c:a', 'aac', '-f', 'dash', '-seg_duration', '4', '-use_template', '1', '-use_timeline', '1', '-adaptation_sets', 'id=0,streams=v id=1,streams=a', 'manifest.mpd'],
  },
  {
    name: 'segment muxer with reset_timestamps',
    cmd: 'ffmpeg -i {{in_video}} -c copy -map 0 -f segment -segment_time 10 -reset_timestamps 1 -segment_list {{out_list}} part_%03d.mp4',
    inputs: VID, outputs: { out_list: 'parts.csv' },
    argv: [...F, '-i', 'in_video.mp4', '-c', 'copy', '-map', '0', '-f', 'segment', '-segment_time', '10', '-reset_timestamps', '1', '-segment_list', 'parts.csv', 'part_%03d.mp4'],
  },
  {
    name: 'x265 with params and 10-bit',
    cmd: 'ffmpeg -i {{in_video}} -c:v libx265 -preset medium -crf 24 -pix_fmt yuv420p10le -x265-params "aq-mode=3:no-sao=1:log-level=error" -tag:v hvc1 -c:a copy {{out_video}}',
    inputs: VID, outputs: { out_video: 'x265.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-c:v', 'libx265', '-preset', 'medium', '-crf', '24', '-pix_fmt', 'yuv420p10le', '-x265-params', 'aq-mode=3:no-sao=1:log-level=error', '-tag:v', 'hvc1', '-c:a', 'copy', 'x265.mp4'],
  },
  {
    name: 'x264 params, profile, level, GOP settings',
    cmd: 'ffmpeg -i {{in_video}} -c:v libx264 -profile:v high -level 4.1 -x264-params keyint=60:min-keyint=60:scenecut=0 -bf 2 -refs 3 -maxrate 5M -bufsize 10M -r 30 -fps_mode cfr {{out_video}}',
    inputs: VID, outputs: { out_video: 'gop.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-c:v', 'libx264', '-profile:v', 'high', '-level', '4.1', '-x264-params', 'keyint=60:min-keyint=60:scenecut=0', '-bf', '2', '-refs', '3', '-maxrate', '5M', '-bufsize', '10M', '-r', '30', '-fps_mode', 'cfr', 'gop.mp4'],
  },
  {
    name: 'volume, fades and resample on audio',
    cmd: 'ffmpeg -i {{in_audio}} -af "volume=1.5,afade=t=in:st=0:d=2,afade=t=out:st=28:d=2,aresample=44100" -c:a flac {{out_audio}}',
    inputs: { in_audio: 'https://e.com/a.flac' }, outputs: { out_audio: 'faded.flac' },
    argv: [...F, '-i', 'in_audio.flac', '-af', 'volume=1.5,afade=t=in:st=0:d=2,afade=t=out:st=28:d=2,aresample=44100', '-c:a', 'flac', 'faded.flac'],
  },
  {
    name: 'amix of two audio inputs',
    cmd: 'ffmpeg -i {{in_voice}} -i {{in_music}} -filter_complex "[1:a]volume=0.2[m];[0:a][m]amix=inputs=2:duration=first:dropout_transition=2" -c:a aac {{out_mix}}',
    inputs: { in_voice: 'https://e.com/voice.wav', in_music: 'https://e.com/music.ogg' }, outputs: { out_mix: 'mix.m4a' },
    argv: [...F, '-i', 'in_voice.wav', ...F, '-i', 'in_music.ogg', '-filter_complex', '[1:a]volume=0.2[m];[0:a][m]amix=inputs=2:duration=first:dropout_transition=2', '-c:a', 'aac', 'mix.m4a'],
  },
  {
    name: 'xfade transition between two clips',
    cmd: 'ffmpeg -i {{in_a}} -i {{in_b}} -filter_complex "[0:v][1:v]xfade=transition=fade:duration=1:offset=4,format=yuv420p[v];[0:a][1:a]acrossfade=d=1[a]" -map "[v]" -map "[a]" {{out_video}}',
    inputs: { in_a: 'https://e.com/a.mp4', in_b: 'https://e.com/b.mp4' }, outputs: { out_video: 'xfade.mp4' },
    argv: [...F, '-i', 'in_a.mp4', ...F, '-i', 'in_b.mp4', '-filter_complex', '[0:v][1:v]xfade=transition=fade:duration=1:offset=4,format=yuv420p[v];[0:a][1:a]acrossfade=d=1[a]', '-map', '[v]', '-map', '[a]', 'xfade.mp4'],
  },
  {
    name: 'deinterlace, denoise, sharpen, color',
    cmd: 'ffmpeg -i {{in_video}} -vf "yadif=mode=1,hqdn3d,unsharp=5:5:1.0,eq=contrast=1.1:saturation=1.2,hue=h=10" {{out_video}}',
    inputs: VID, outputs: { out_video: 'clean.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', 'yadif=mode=1,hqdn3d,unsharp=5:5:1.0,eq=contrast=1.1:saturation=1.2,hue=h=10', 'clean.mp4'],
  },
  {
    name: 'select every nth frame with an escaped comma',
    cmd: "ffmpeg -i {{in_video}} -vf \"select='not(mod(n\\,100))',scale=320:-1,tile=4x4\" -frames:v 1 -fps_mode vfr {{out_grid}}",
    inputs: VID, outputs: { out_grid: 'grid.jpg' },
    argv: [...F, '-i', 'in_video.mp4', '-vf', "select='not(mod(n\\,100))',scale=320:-1,tile=4x4", '-frames:v', '1', '-fps_mode', 'vfr', 'grid.jpg'],
  },
  {
    name: 'image sequence as an undeclared intermediate, chained into a contact sheet',
    cmd: ['ffmpeg -i {{in_video}} -vf fps=1 -q:v 3 frame_%04d.jpg', 'ffmpeg -framerate 1 -i frame_%04d.jpg -vf scale=200:-1,tile=6x6 -frames:v 1 {{out_sheet}}'],
    inputs: VID, outputs: { out_sheet: 'sheet.jpg' },
    argv: [
      [...F, '-i', 'in_video.mp4', '-vf', 'fps=1', '-q:v', '3', 'frame_%04d.jpg'],
      ['-framerate', '1', ...F, '-i', 'frame_%04d.jpg', '-vf', 'scale=200:-1,tile=6x6', '-frames:v', '1', 'sheet.jpg'],
    ],
  },
  {
    name: 'chained: a later command reads an earlier {{out_*}}',
    cmd: ['ffmpeg -i {{in_video}} -c:v libx264 -crf 23 {{out_video}}', 'ffmpeg -i {{out_video}} -vf thumbnail -frames:v 1 {{out_thumb}}'],
    inputs: VID, outputs: { out_video: 'main.mp4', out_thumb: 'poster.jpg' },
    argv: [
      [...F, '-i', 'in_video.mp4', '-c:v', 'libx264', '-crf', '23', 'main.mp4'],
      [...F, '-i', 'main.mp4', '-vf', 'thumbnail', '-frames:v', '1', 'poster.jpg'],
    ],
  },
  {
    name: 'chained two-pass x264 with -f null -',
    cmd: ['ffmpeg -y -i {{in_video}} -c:v libx264 -b:v 2M -pass 1 -passlogfile pass -an -f null -', 'ffmpeg -i {{in_video}} -c:v libx264 -b:v 2M -pass 2 -passlogfile pass -c:a aac {{out_video}}'],
    inputs: VID, outputs: { out_video: 'twopass.mp4' },
    argv: [
      ['-y', ...F, '-i', 'in_video.mp4', '-c:v', 'libx264', '-b:v', '2M', '-pass', '1', '-passlogfile', 'pass', '-an', '-f', 'null', '-'],
      [...F, '-i', 'in_video.mp4', '-c:v', 'libx264', '-b:v', '2M', '-pass', '2', '-passlogfile', 'pass', '-c:a', 'aac', 'twopass.mp4'],
    ],
  },
  {
    name: 'chained: subtitles written by an earlier command are burned in',
    cmd: ['ffmpeg -i {{in_subs}} {{out_srt}}', 'ffmpeg -i {{in_video}} -vf subtitles={{out_srt}} {{out_video}}'],
    inputs: { ...VID, in_subs: 'https://e.com/captions.vtt' }, outputs: { out_srt: 'captions.srt', out_video: 'burned.mp4' },
    argv: [
      [...F, '-i', 'in_subs.vtt', 'captions.srt'],
      [...F, '-i', 'in_video.mp4', '-vf', 'subtitles=captions.srt', 'burned.mp4'],
    ],
  },
  {
    name: 'waveform picture',
    cmd: 'ffmpeg -i {{in_audio}} -filter_complex "showwavespic=s=1280x240:colors=0x3366ff" -frames:v 1 {{out_png}}',
    inputs: { in_audio: 'https://e.com/a.mp3' }, outputs: { out_png: 'wave.png' },
    argv: [...F, '-i', 'in_audio.mp3', '-filter_complex', 'showwavespic=s=1280x240:colors=0x3366ff', '-frames:v', '1', 'wave.png'],
  },
  {
    name: 'audio visualisation video from a source filter background',
    cmd: 'ffmpeg -i {{in_audio}} -filter_complex "color=c=black:s=1280x720:r=25[bg];[0:a]showwaves=s=1280x200:mode=line[w];[bg][w]overlay=0:260:shortest=1[v]" -map "[v]" -map 0:a -c:v libx264 -c:a aac {{out_video}}',
    inputs: { in_audio: 'https://e.com/a.mp3' }, outputs: { out_video: 'viz.mp4' },
    argv: [...F, '-i', 'in_audio.mp3', '-filter_complex', 'color=c=black:s=1280x720:r=25[bg];[0:a]showwaves=s=1280x200:mode=line[w];[bg][w]overlay=0:260:shortest=1[v]', '-map', '[v]', '-map', '0:a', '-c:v', 'libx264', '-c:a', 'aac', 'viz.mp4'],
  },
  {
    name: 'transpose and hflip, noautorotate',
    cmd: 'ffmpeg -noautorotate -i {{in_video}} -vf transpose=1,hflip -metadata:s:v rotate=0 {{out_video}}',
    inputs: VID, outputs: { out_video: 'rot.mp4' },
    argv: ['-noautorotate', ...F, '-i', 'in_video.mp4', '-vf', 'transpose=1,hflip', '-metadata:s:v', 'rotate=0', 'rot.mp4'],
  },
  {
    name: 'itsoffset to fix audio sync',
    cmd: 'ffmpeg -i {{in_video}} -itsoffset 0.3 -i {{in_video2}} -map 0:v -map 1:a -c copy {{out_video}}',
    inputs: { in_video: 'https://e.com/v.mp4', in_video2: 'https://e.com/v2.mp4' }, outputs: { out_video: 'synced.mp4' },
    argv: [...F, '-i', 'in_video.mp4', '-itsoffset', '0.3', ...F, '-i', 'in_video2.mp4', '-map', '0:v', '-map', '1:a', '-c', 'copy', 'synced.mp4'],
  },
  {
    name: 'line continuations, quoted filter with ; and loglevel',
    cmd: 'ffmpeg -loglevel error \\\n  -i {{in_video}} \\\n  -filter_complex "[0:v]split[a][b];[b]vflip[c];[a][c]vstack" \\\n  {{out_video}}',
    inputs: VID, outputs: { out_video: 'stack.mp4' },
    argv: ['-loglevel', 'error', ...F, '-i', 'in_video.mp4', '-filter_complex', '[0:v]split[a][b];[b]vflip[c];[a][c]vstack', 'stack.mp4'],
  },
  {
    name: 'input without an extension in its URL',
    cmd: 'ffmpeg -i {{in_video}} -c copy {{out_video}}',
    inputs: { in_video: 'https://api.example.com/download?id=42' }, outputs: { out_video: 'copy.mp4' },
    argv: [...F, '-i', 'in_video', '-c', 'copy', 'copy.mp4'],
  },
  {
    name: 'attach a font from an input alias to mkv',
    cmd: 'ffmpeg -i {{in_video}} -attach {{in_font}} -metadata:s:t mimetype=font/ttf -c copy {{out_video}}',
    inputs: { ...VID, in_font: 'https://e.com/f.ttf' }, outputs: { out_video: 'fonts.mkv' },
    argv: [...F, '-i', 'in_video.mp4', '-attach', 'in_font.ttf', '-metadata:s:t', 'mimetype=font/ttf', '-c', 'copy', 'fonts.mkv'],
  },
  {
    name: 'fflags genpts, copyts and max_muxing_queue_size',
    cmd: 'ffmpeg -fflags +genpts -i {{in_video}} -copyts -c copy -max_muxing_queue_size 1024 {{out_video}}',
    inputs: VID, outputs: { out_video: 'ts.mkv' },
    argv: ['-fflags', '+genpts', ...F, '-i', 'in_video.mp4', '-copyts', '-c', 'copy', '-max_muxing_queue_size', '1024', 'ts.mkv'],
  },
];

describe('legitimate real-world commands pass with the exact argv', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
  for (const c of cases) {
    it(c.name, () => {
      const commands = Array.isArray(c.cmd) ? c.cmd : [c.cmd];
      const r = parseFfmpegCommand({ commands, inputFiles: c.inputs, outputFiles: c.outputs, compute: c.compute, gpuAvailable: true });
      expect(r.ok ? [] : r.violations).toEqual([]);
      if (!r.ok) return;
      const expected = Array.isArray(c.argv[0]) ? (c.argv as string[][]) : [c.argv as string[]];
      expect(r.args).toEqual(expected);
      expect(r.plan.commands).toEqual(expected);
      expect(r.compute).toBe(c.expectCompute ?? 'cpu');
    });
  }
});

describe('the plan', () => {
  it('lists inputs with URLs and local names, outputs with their names', () => {
    const r = parseFfmpegCommand({
      commands: ['ffmpeg -i {{in_video}} -i {{in_logo}} -filter_complex overlay {{out_video}}'],
      inputFiles: { in_video: 'https://e.com/path/Clip.MOV?sig=abc', in_logo: 'https://e.com/logo' },
      outputFiles: { out_video: 'final.mp4' },
      gpuAvailable: false,
    });
    expect(r).toEqual({
      ok: true,
      compute: 'cpu',
      plan: {
        inputs: [
          { alias: 'in_video', url: 'https://e.com/path/Clip.MOV?sig=abc', local_name: 'in_video.mov' },
          { alias: 'in_logo', url: 'https://e.com/logo', local_name: 'in_logo' },
        ],
        outputs: [{ alias: 'out_video', local_name: 'final.mp4' }],
        commands: [[...F, '-i', 'in_video.mov', ...F, '-i', 'in_logo', '-filter_complex', 'overlay', 'final.mp4']],
      },
      args: [[...F, '-i', 'in_video.mov', ...F, '-i', 'in_logo', '-filter_complex', 'overlay', 'final.mp4']],
    });
  });

  it('reports several violations at once, each with its path', () => {
    const r = parseFfmpegCommand({
      commands: ['ffmpeg -i {{in_video}} -report {{out_video}}', 'ffmpeg -i /etc/passwd -vf movie=x {{out_b}}'],
      inputFiles: { in_video: 'https://e.com/v.mp4' },
      outputFiles: { out_video: 'a.mp4', out_b: 'b.mp4' },
      gpuAvailable: false,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.violations.map((v) => [v.rule, v.path])).toEqual([
      ['option-not-allowed', ['ffmpeg_commands', 0]],
      ['absolute-path', ['ffmpeg_commands', 1]],
      ['filter-not-allowed', ['ffmpeg_commands', 1]],
    ]);
  });
});

/**
 * Download headers exactly as MLflow builds them (mlflow/utils/mime_type_utils.py `_guess_mime_type`,
 * mlflow/server/handlers.py `_content_disposition_attachment`): the content type guessed from the file
 * name, and an attachment disposition.
 */

/** `get_text_extensions()`: served as text/plain (compared case-sensitively, as MLflow does). */
const TEXT_EXTENSIONS = new Set([
  'txt', 'log', 'err', 'cfg', 'conf', 'cnf', 'cf', 'ini', 'properties', 'prop', 'hocon', 'toml', 'yaml', 'yml',
  'xml', 'json', 'js', 'py', 'py3', 'csv', 'tsv', 'md', 'rst', 'ipynb', 'MLmodel', 'mlproject',
]);

/**
 * Python 3.11's built-in `mimetypes` table (strict types, without the host's /etc/mime.types, so the
 * answer does not depend on the machine).
 */
const TYPES: Readonly<Record<string, string>> = {
  '.3g2': 'audio/3gpp2', '.3gp': 'audio/3gpp', '.3gpp': 'audio/3gpp', '.3gpp2': 'audio/3gpp2',
  '.a': 'application/octet-stream', '.aac': 'audio/aac', '.adts': 'audio/aac', '.ai': 'application/postscript',
  '.aif': 'audio/x-aiff', '.aifc': 'audio/x-aiff', '.aiff': 'audio/x-aiff', '.ass': 'audio/aac',
  '.au': 'audio/basic', '.avi': 'video/x-msvideo', '.avif': 'image/avif', '.bat': 'text/plain',
  '.bcpio': 'application/x-bcpio', '.bin': 'application/octet-stream', '.bmp': 'image/bmp', '.c': 'text/plain',
  '.cdf': 'application/x-netcdf', '.cpio': 'application/x-cpio', '.csh': 'application/x-csh',
  '.css': 'text/css', '.csv': 'text/csv', '.dll': 'application/octet-stream', '.doc': 'application/msword',
  '.dot': 'application/msword', '.dvi': 'application/x-dvi', '.eml': 'message/rfc822',
  '.eps': 'application/postscript', '.etx': 'text/x-setext', '.exe': 'application/octet-stream',
  '.gif': 'image/gif', '.gtar': 'application/x-gtar', '.h': 'text/plain', '.h5': 'application/x-hdf5',
  '.hdf': 'application/x-hdf', '.heic': 'image/heic', '.heif': 'image/heif', '.htm': 'text/html',
  '.html': 'text/html', '.ico': 'image/vnd.microsoft.icon', '.ief': 'image/ief', '.jpe': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.jpg': 'image/jpeg', '.js': 'application/javascript', '.json': 'application/json',
  '.ksh': 'text/plain', '.latex': 'application/x-latex', '.loas': 'audio/aac', '.m1v': 'video/mpeg',
  '.m3u': 'application/vnd.apple.mpegurl', '.m3u8': 'application/vnd.apple.mpegurl',
  '.man': 'application/x-troff-man', '.me': 'application/x-troff-me', '.mht': 'message/rfc822',
  '.mhtml': 'message/rfc822', '.mif': 'application/x-mif', '.mjs': 'application/javascript',
  '.mov': 'video/quicktime', '.movie': 'video/x-sgi-movie', '.mp2': 'audio/mpeg', '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4', '.mpa': 'video/mpeg', '.mpe': 'video/mpeg', '.mpeg': 'video/mpeg', '.mpg': 'video/mpeg',
  '.ms': 'application/x-troff-ms', '.n3': 'text/n3', '.nc': 'application/x-netcdf',
  '.nq': 'application/n-quads', '.nt': 'application/n-triples', '.nws': 'message/rfc822',
  '.o': 'application/octet-stream', '.obj': 'application/octet-stream', '.oda': 'application/oda',
  '.opus': 'audio/opus', '.p12': 'application/x-pkcs12', '.p7c': 'application/pkcs7-mime',
  '.pbm': 'image/x-portable-bitmap', '.pdf': 'application/pdf', '.pfx': 'application/x-pkcs12',
  '.pgm': 'image/x-portable-graymap', '.pl': 'text/plain', '.png': 'image/png',
  '.pnm': 'image/x-portable-anymap', '.pot': 'application/vnd.ms-powerpoint',
  '.ppa': 'application/vnd.ms-powerpoint', '.ppm': 'image/x-portable-pixmap',
  '.pps': 'application/vnd.ms-powerpoint', '.ppt': 'application/vnd.ms-powerpoint',
  '.ps': 'application/postscript', '.pwz': 'application/vnd.ms-powerpoint', '.py': 'text/x-python',
  '.pyc': 'application/x-python-code', '.pyo': 'application/x-python-code', '.qt': 'video/quicktime',
  '.ra': 'audio/x-pn-realaudio', '.ram': 'application/x-pn-realaudio', '.ras': 'image/x-cmu-raster',
  '.rdf': 'application/xml', '.rgb': 'image/x-rgb', '.roff': 'application/x-troff', '.rtx': 'text/richtext',
  '.sgm': 'text/x-sgml', '.sgml': 'text/x-sgml', '.sh': 'application/x-sh', '.shar': 'application/x-shar',
  '.snd': 'audio/basic', '.so': 'application/octet-stream', '.src': 'application/x-wais-source',
  '.srt': 'text/plain', '.sv4cpio': 'application/x-sv4cpio', '.sv4crc': 'application/x-sv4crc',
  '.svg': 'image/svg+xml', '.swf': 'application/x-shockwave-flash', '.t': 'application/x-troff',
  '.tar': 'application/x-tar', '.tcl': 'application/x-tcl', '.tex': 'application/x-tex',
  '.texi': 'application/x-texinfo', '.texinfo': 'application/x-texinfo', '.tif': 'image/tiff',
  '.tiff': 'image/tiff', '.tr': 'application/x-troff', '.trig': 'application/trig',
  '.tsv': 'text/tab-separated-values', '.txt': 'text/plain', '.ustar': 'application/x-ustar',
  '.vcf': 'text/x-vcard', '.vtt': 'text/vtt', '.wasm': 'application/wasm', '.wav': 'audio/x-wav',
  '.webm': 'video/webm', '.webmanifest': 'application/manifest+json', '.wiz': 'application/msword',
  '.wsdl': 'application/xml', '.xbm': 'image/x-xbitmap', '.xlb': 'application/vnd.ms-excel',
  '.xls': 'application/vnd.ms-excel', '.xml': 'text/xml', '.xpdl': 'application/xml',
  '.xpm': 'image/x-xpixmap', '.xsl': 'application/xml', '.xwd': 'image/x-xwindowdump',
  '.zip': 'application/zip',
};
const SUFFIXES: Readonly<Record<string, string>> = {
  '.svgz': '.svg.gz', '.tgz': '.tar.gz', '.taz': '.tar.gz', '.tz': '.tar.gz', '.tbz2': '.tar.bz2', '.txz': '.tar.xz',
};
const ENCODINGS = new Set(['.gz', '.Z', '.bz2', '.xz', '.br']);

/** Python's `posixpath.splitext`: leading dots of the name do not start an extension. */
function splitext(p: string): [string, string] {
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > slash) {
    let i = slash + 1;
    while (i < dot && p[i] === '.') i++;
    if (i < dot) return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

/** `mimetypes.guess_type(name)[0]` with the built-in strict table. */
function guessType(name: string): string | undefined {
  let [base, ext] = splitext(name);
  while (SUFFIXES[ext.toLowerCase()] !== undefined) [base, ext] = splitext(base + SUFFIXES[ext.toLowerCase()]);
  if (ENCODINGS.has(ext)) [base, ext] = splitext(base);
  return TYPES[ext] ?? TYPES[ext.toLowerCase()];
}

/** `_guess_mime_type(file_name)`. */
export function guessMimeType(fileName: string): string {
  const [, ext] = splitext(fileName);
  const extension = ext === '' ? fileName : ext.replace(/\./g, '');
  if (TEXT_EXTENSIONS.has(extension)) return 'text/plain';
  return guessType(fileName) ?? 'application/octet-stream';
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z|~]+$/;

/** werkzeug `quote_header_value(value, allow_token=True)`. */
function quoteHeaderValue(value: string): string {
  if (value === '') return '""';
  if (TOKEN.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Python `urllib.parse.quote(s, safe)`: UTF-8 bytes, letters, digits and `_.-~` plus `safe` kept. */
function pyQuote(s: string, safe: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.\-~]/.test(ch) || (byte < 128 && safe.includes(ch))) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `_content_disposition_attachment(filename)` (RFC 6266, with RFC 5987 `filename*` for non-ASCII names). */
export function contentDisposition(fileName: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(fileName)) return `attachment; filename=${quoteHeaderValue(fileName)}`;
  const ascii = fileName.normalize('NFKD').replace(/[^\u0000-\u007f]/g, '') || 'download';
  return `attachment; filename=${quoteHeaderValue(ascii)}; filename*=UTF-8''${pyQuote(fileName, "!#$&+-.^_`|~")}`;
}

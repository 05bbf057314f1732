import t from 'tap'
import { acceptedType, TextCheck } from '../../src/files/sniff.js'
import * as files from '../helpers/files.js'

t.test('accepted kinds are told apart by their bytes', async (t) => {
  t.equal(await acceptedType(files.png()), 'image/png')
  t.equal(await acceptedType(files.jpeg()), 'image/jpeg')
  t.equal(await acceptedType(files.gif()), 'image/gif')
  t.equal(await acceptedType(files.webp()), 'image/webp')
  t.equal(await acceptedType(files.pdf()), 'application/pdf')
  t.equal(await acceptedType(files.docx()), files.DOCX_TYPE)
  t.equal(await acceptedType(files.xlsx()), files.XLSX_TYPE)
  t.equal(await acceptedType(files.text()), 'text/plain')
  t.equal(await acceptedType(Buffer.from('\ufeffПривіт, це текст 👋\r\n\tз табуляцією', 'utf8')), 'text/plain', 'UTF-8 with a BOM, tabs, CRLF and emoji is text')
})

t.test('markup, executables, archives and binary junk are refused', async (t) => {
  for (const [name, bytes] of Object.entries({
    html: files.html(), svg: files.svg(), exe: files.exe(), elf: files.elf(), zip: files.plainZip(),
    xml: Buffer.from('<?xml version="1.0"?><a/>'), 'html after text': Buffer.from('Hello <html><script>x</script></html>'),
    'latin-1 text': Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'NUL bytes': Buffer.from('text\0more'),
  })) {
    t.equal(await acceptedType(bytes), undefined, name)
  }
})

t.test('the text check follows UTF-8 across chunk boundaries and refuses binary later in the file', async (t) => {
  const bytes = Buffer.from('ok — ✓', 'utf8')
  const check = new TextCheck()
  for (const b of bytes) t.ok(check.push(Uint8Array.of(b)))
  t.ok(check.end(), 'a sequence split over chunks is fine')
  const later = new TextCheck()
  t.ok(later.push(Buffer.from('plain start ')))
  t.notOk(later.push(Buffer.from([0x00, 0x01])), 'a control character later on is refused')
  const cut = new TextCheck()
  t.ok(cut.push(Buffer.from([0xe2, 0x9c])))
  t.notOk(cut.end(), 'a file ending inside a sequence is not text')
})

// Reads the Dublin Core / RDF metadata block that Inkscape-era openclipart SVGs carry.
// A regex scan over the <metadata> block is enough: the block is small and regular, and a full XML
// parser would be a new dependency. Anything malformed yields empty fields, never an exception.

export interface SvgMetadata {
  title: string;
  description: string;
  /** Raw `rdf:li` entries of `dc:subject`, entity-decoded, in file order (may contain empty strings). */
  subjects: string[];
  /** Names from `dc:creator`, `dc:publisher` and `dc:rights` agents (people used as tags are removed later). */
  creators: string[];
  publishers: string[];
  rights: string[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Decodes the XML entities, numeric references and CDATA sections found in text nodes. */
export function decodeXmlText(raw: string): string {
  const once = decodeEntities(raw.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1').replace(/<[^>]*>/g, ' ')); // stray markup
  // Some exports escaped twice (`&amp;#39;`): decode the references that the first pass revealed.
  return decodeEntities(once).trim();
}

/** HTML accent entities that some files use although XML does not define them (`&eacute;toile`). */
const ACCENTS: Record<string, string> = { acute: '\u0301', grave: '\u0300', circ: '\u0302', uml: '\u0308', tilde: '\u0303', cedil: '\u0327', ring: '\u030a' };

function decodeEntities(text: string): string {
  return text
    .replace(/&([a-z])(acute|grave|circ|uml|tilde|cedil|ring);/gi, (_, letter: string, mark: string) => (letter + ACCENTS[mark.toLowerCase()]).normalize('NFC'))
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

/** The first element `<tag …>…</tag>` (namespace prefix included in `tag`), or '' when absent. */
function element(xml: string, tag: string): string {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`);
  return re.exec(xml)?.[1] ?? '';
}

/** Names of every `cc:Agent` (its `dc:title`) inside the given element, e.g. `dc:creator`. */
function agentNames(work: string, tag: string): string[] {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g');
  const names: string[] = [];
  for (const m of work.matchAll(re)) {
    for (const t of m[1].matchAll(/<dc:title(?:\s[^>]*)?>([\s\S]*?)<\/dc:title>/g)) {
      const name = decodeXmlText(t[1]);
      if (name) names.push(name);
    }
  }
  return names;
}

/**
 * Extracts title, description, subject keywords and agent names from an SVG's text.
 * Returns null when the file has no `<metadata>` block with a `cc:Work` (or `rdf:Description`) in it.
 */
export function extractSvgMetadata(svg: string): SvgMetadata | null {
  const metadata = element(svg, 'metadata') || element(svg, 'svg:metadata');
  if (!metadata) return null;
  const work = element(metadata, 'cc:Work') || element(metadata, 'rdf:Description');
  if (!work) return null;
  // Agents have their own dc:title; cut them out before reading the work's title.
  const withoutAgents = work.replace(/<(dc:(?:creator|publisher|rights|contributor))(?:\s[^>]*)?>[\s\S]*?<\/\1>/g, '');
  const subjectBlock = element(work, 'dc:subject');
  const subjects = [...subjectBlock.matchAll(/<rdf:li(?:\s[^>]*)?>([\s\S]*?)<\/rdf:li>|<rdf:li(?:\s[^>]*)?\/>/g)].map((m) =>
    decodeXmlText(m[1] ?? ''),
  );
  // Some files put plain comma-separated text in dc:subject instead of a Bag.
  if (subjects.length === 0 && subjectBlock.trim() && !subjectBlock.includes('<')) subjects.push(decodeXmlText(subjectBlock));
  return {
    title: decodeXmlText(element(withoutAgents, 'dc:title')),
    description: decodeXmlText(element(withoutAgents, 'dc:description')),
    subjects,
    creators: agentNames(work, 'dc:creator'),
    publishers: agentNames(work, 'dc:publisher'),
    rights: agentNames(work, 'dc:rights'),
  };
}

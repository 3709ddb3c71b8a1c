// graph-node names query fields with the Rust `inflector` crate; a subgraph's queries only run here unchanged if
// these rules match its `to_plural` exactly (which is why `Epoch` becomes `epoches`, not `epochs`).

const UNCOUNTABLE = new Set(
  (
    'accommodation adulthood advertising advice aggression aid air aircraft alcohol anger applause arithmetic ' +
    'assistance athletics bacon baggage beef biology blood botany bread butter carbon cardboard cash chalk chaos ' +
    'chess crossroads countryside dancing deer dignity dirt dust economics education electricity engineering ' +
    'enjoyment envy equipment ethics evidence evolution fame fiction flour flu food fuel fun furniture gallows ' +
    'garbage garlic genetics gold golf gossip grammar gratitude grief guilt gymnastics happiness hardware harm hate ' +
    'hatred health heat help homework honesty honey hospitality housework humour hunger hydrogen ice importance ' +
    'inflation information innocence iron irony jam jewelry judo karate knowledge lack laughter lava leather ' +
    'leisure lightning linguine linguini linguistics literature litter livestock logic loneliness luck luggage ' +
    'macaroni machinery magic management mankind marble mathematics mayonnaise measles methane milk money mud ' +
    'music mumps nature news nitrogen nonsense nurture nutrition obedience obesity oxygen pasta patience physics ' +
    'poetry pollution poverty pride psychology publicity punctuation quartz racism relaxation reliability research ' +
    'respect revenge rice rubbish rum safety scenery seafood seaside series shame sheep shopping sleep smoke ' +
    'smoking snow soap software soil spaghetti species steam stuff stupidity sunshine symmetry tennis thirst ' +
    'thunder timber traffic transportation trust underwear unemployment unity validity veal vegetation ' +
    'vegetarianism vengeance violence vitality warmth wealth weather welfare wheat wildlife wisdom yoga zinc zoology'
  ).split(' '),
)

const SPECIAL: Record<string, string> = {
  ox: 'oxen',
  man: 'men',
  woman: 'women',
  die: 'dice',
  yes: 'yeses',
  foot: 'feet',
  eave: 'eaves',
  goose: 'geese',
  tooth: 'teeth',
  quiz: 'quizzes',
}

// In the crate's order; they are tried last to first, and the first whose group 1 matches wins.
const RULES: [RegExp, string][] = [
  [/(\w*)s$/, 's'],
  [/(\w*([^aeiou]ese))$/, ''],
  [/(\w*(ax|test))is$/, 'es'],
  [/(\w*(alias|[^aou]us|tlas|gas|ris))$/, 'es'],
  [/(\w*(e[mn]u))s?$/, 's'],
  [/(\w*([^l]ias|[aeiou]las|[emjzr]as|[iu]am))$/, ''],
  [/(\w*(alumn|syllab|octop|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat))(?:us|i)$/, 'i'],
  [/(\w*(alumn|alg|vertebr))(?:a|ae)$/, 'ae'],
  [/(\w*(seraph|cherub))(?:im)?$/, 'im'],
  [/(\w*(her|at|gr))o$/, 'oes'],
  [
    /(\w*(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi|curricul|automat|quor))(?:a|um)$/,
    'a',
  ],
  [/(\w*(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat))(?:a|on)$/, 'a'],
  [/(\w*)sis$/, 'ses'],
  [/(\w*(kni|wi|li))fe$/, 'ves'],
  [/(\w*(ar|l|ea|eo|oa|hoo))f$/, 'ves'],
  [/(\w*([^aeiouy]|qu))y$/, 'ies'],
  [/(\w*([^ch][ieo][ln]))ey$/, 'ies'],
  [/(\w*(x|ch|ss|sh|zz)es)$/, ''],
  [/(\w*(x|ch|ss|sh|zz))$/, 'es'],
  [/(\w*(matr|cod|mur|sil|vert|ind|append))(?:ix|ex)$/, 'ices'],
  [/(\w*(m|l)(?:ice|ouse))$/, 'ice'],
  [/(\w*(pe)(?:rson|ople))$/, 'ople'],
  [/(\w*(child))(?:ren)?$/, 'ren'],
  [/(\w*eaux)$/, ''],
]

/** The plural of a type name, as inflector's `to_plural` forms it. */
export function pluralize(word: string): string {
  if (UNCOUNTABLE.has(word)) return word
  const special = SPECIAL[word]
  if (special) return special
  for (let i = RULES.length - 1; i >= 0; i--) {
    const [rule, suffix] = RULES[i] as [RegExp, string]
    const group = rule.exec(word)?.[1]
    if (group !== undefined) return group + suffix
  }
  return `${word}s`
}

/** `StakeEvent` → `stakeEvent`: lower-cases the first word of a PascalCase type name. */
export function camelCase(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean)
  return words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w)).join('')
}

/** The singular and plural query fields of an entity type, with `_collection` when they would be equal. */
export function queryFieldNames(typeName: string): { singular: string; plural: string } {
  const singular = camelCase(typeName)
  const plural = camelCase(pluralize(typeName))
  return { singular, plural: plural === singular ? `${plural}_collection` : plural }
}

import { compileContracts, GENERATED_DIR, renderArtifacts, writeArtifacts } from '../src/compile'

const compiled = await compileContracts()
await writeArtifacts(GENERATED_DIR, renderArtifacts(compiled))
console.log(`compiled ${compiled.map((c) => c.name).join(', ')} into ${GENERATED_DIR}`)

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

describe('the repository npm configuration', () => {
  it('lets npm run scripts without config warnings (npm start nests three npm processes)', async () => {
    const { stderr } = await run('npm', ['run', 'env'], { cwd: REPO })
    expect(stderr).not.toContain('npm warn')
  })

  it("denies onnxruntime-node's install script, which would download CUDA files on npm ci", async () => {
    const { stdout } = await run('npm', ['install-scripts', 'ls'], { cwd: REPO })
    expect(stdout).not.toContain('onnxruntime-node')
  })
})

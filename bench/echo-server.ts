/** The webhook bench's baseline: a bare express app that parses JSON and echoes it. */
import express from 'express'

const app = express()
app.use(express.json({ limit: '10mb' }))
app.post('/echo', (req, res) => {
  res.json(req.body)
})
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : ''}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))

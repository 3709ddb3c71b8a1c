import 'graphiql/style.css'
import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { GraphiQL } from 'graphiql'
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { byId } from './dom'

/**
 * GraphiQL over the gateway's /graphql on the same origin, queries over HTTP and subscriptions over graphql-ws. Served
 * from the gateway's own files (no CDN), so it works offline; the gateway serves it where GRAPHQL_EXPLORER is on.
 */
const url = new URL('/graphql', window.location.href).toString()
const fetcher = createGraphiQLFetcher({ url, subscriptionUrl: url.replace(/^http/, 'ws') })

const defaultQuery = `# The 10 newest jobs and who computed them; Ctrl-Enter runs, Ctrl-Space completes.
{
  _meta { block { number timestamp } }
  jobs(first: 10, orderBy: createdAt, orderDirection: desc) {
    id status payment createdAt
    provider { id stake }
    model { id uri }
  }
}
`

createRoot(byId('explorer')).render(createElement(GraphiQL, { fetcher, defaultQuery }))

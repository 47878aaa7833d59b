// The npm module and the CDN file on one page (an app import and a pasted embed): the second
// registration is skipped, nothing throws, and the widget works.
import 'voice-agent-widget';
import 'voice-agent-widget/cdn/voice-agent.js';

const el = document.createElement('voice-agent');
el.setAttribute('agent-id', 'local-echo');
el.setAttribute('token-endpoint', '/api/voice-token');
el.setAttribute('layout', 'inline');
document.getElementById('root')!.append(el);

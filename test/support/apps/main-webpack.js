// The npm package in a webpack 5 app: `new URL(…, import.meta.url)` makes each worklet an asset file.
import 'voice-agent-widget';

document.getElementById('root').innerHTML = '<voice-agent agent-id="local-echo" token-endpoint="/api/voice-token" layout="inline"></voice-agent>';

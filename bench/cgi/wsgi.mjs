// CGI hello through @wsgi/cgi's CGIHandler.
import { CGIHandler } from '@wsgi/cgi';
import { hello } from '../apps/wsgi-apps.mjs';

await new CGIHandler().run(hello);

console.log('The demo server arrives with @wsgi/simple.');

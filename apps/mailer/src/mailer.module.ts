import { DynamicModule, Module } from '@nestjs/common';

@Module({})
export class MailerModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: MailerModule, imports: [platform] };
  }
}
